// dnnsplit estimate MODEL --board B [--folding F.json | --target-fps N] [--json]: FINN-style
// per-layer resources and cycles, totals against the board, bottleneck, frames/s and latency.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "dnnsplit/boards.h"
#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"

namespace dnnsplit::cli {

namespace {

struct EstimateCliOptions {
  std::string model;
  std::string board;
  std::vector<std::string> boards_files;
  std::string folding;
  double target_fps = 0.0;
  double clock_mhz = 0.0;
  bool json = false;
  bool separate_thresholds = false;
  int64_t top_k = 1;
  bool finn_exact = false;
  int64_t mvau_wwidth_max = 36;
  std::string input_type;
};

std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// "conv0..quant3 (4)": first and last IR node covered, and how many.
std::string nodes_label(const cost::HwLayer& layer, const std::vector<std::string>& names) {
  if (layer.ir_nodes.empty()) return "-";
  auto name = [&](int i) {
    return static_cast<size_t>(i) < names.size() ? names[static_cast<size_t>(i)] : "#" + std::to_string(i);
  };
  if (layer.ir_nodes.size() == 1) return name(layer.ir_nodes[0]);
  std::string label = name(layer.ir_nodes.front()) + ".." + name(layer.ir_nodes.back());
  if (label.size() > 32) label = label.substr(0, 29) + "...";
  return label + " (" + std::to_string(layer.ir_nodes.size()) + ")";
}

bool uses_pe(cost::HwOp op) {
  return op != cost::HwOp::kSwg && op != cost::HwOp::kFmPadding && op != cost::HwOp::kDownSampler;
}
bool uses_simd(cost::HwOp op) {
  return op == cost::HwOp::kMvau || op == cost::HwOp::kVvau || op == cost::HwOp::kSwg || op == cost::HwOp::kFmPadding ||
         op == cost::HwOp::kDownSampler;
}

void print_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const bool last = c + 1 == row.size();
      const std::string pad = last ? "" : std::string(width[c] - row[c].size(), ' ');
      line += right[c] ? pad + row[c] : row[c] + pad;
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

void run_estimate(const EstimateCliOptions& o) {
  BoardCatalog catalog = BoardCatalog::builtin();
  for (const auto& file : o.boards_files) catalog.add_file(file);
  const Board& board = catalog.get(o.board);
  const double clock = o.clock_mhz > 0 ? o.clock_mhz : board.clock_mhz;

  cost::LowerOptions lower;
  lower.separate_thresholds = o.separate_thresholds;
  lower.top_k = o.top_k;
  lower.dsp_block = board.dsp_block();
  if (!o.input_type.empty()) {
    lower.input_type = cost::DataType::parse(o.input_type);
    check(lower.input_type.has_value(),
          "--input-type '" + o.input_type + "' is not a FINN integer type (UINT8, INT4, ...)");
  }
  cost::HwGraph hw;
  std::vector<std::string> node_names;
  if (cost::is_finn_hw_model(o.model)) {
    hw = cost::read_finn_hw_model(o.model);
  } else {
    const ir::Graph graph = import_model(o.model);
    for (const auto& n : graph.nodes) node_names.push_back(n.name);
    hw = cost::lower_to_hw(graph, lower);
    if (hw.source.empty()) hw.source = o.model;
  }

  std::string folding_label = "FINN defaults (PE = SIMD = 1)";
  std::optional<cost::AutoFoldResult> auto_fold;
  if (!o.folding.empty()) {
    cost::apply_folding(hw, cost::read_folding_file(o.folding));
    folding_label = o.folding;
  } else if (o.target_fps > 0) {
    auto_fold = cost::auto_fold(hw, o.target_fps, clock, o.mvau_wwidth_max, o.finn_exact);
    folding_label = "automatic (SetFolding) for " + fixed(o.target_fps, 1) + " frames/s";
  } else {
    cost::validate_folding(hw);
  }
  const cost::Estimate est = cost::estimate(hw, cost::estimate_options_for(board, o.finn_exact));
  const auto fits = cost::fit_on_board(est.total, board);
  const bool all_fit = cost::fits_on_board(est.total, board);
  std::vector<std::string> software;
  for (size_t n = 0; n < hw.node_layer.size(); ++n) {
    if (hw.node_layer[n] < 0 && n < node_names.size()) software.push_back(node_names[n]);
  }

  if (o.json) {
    nlohmann::ordered_json doc;
    doc["model"] = o.model;
    doc["board"] = board.name;
    doc["clock_mhz"] = clock;
    doc["finn_exact"] = o.finn_exact;
    doc["folding"] = folding_label;
    if (auto_fold) {
      doc["auto_fold"] = {{"target_cycles", auto_fold->target_cycles},
                          {"achieved_cycles", auto_fold->achieved_cycles},
                          {"relaxed", auto_fold->relaxed}};
    }
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (size_t i = 0; i < hw.layers.size(); ++i) {
      const auto& l = hw.layers[i];
      const auto& e = est.layers[i];
      std::vector<std::string> names;
      for (int n : l.ir_nodes) {
        if (static_cast<size_t>(n) < node_names.size()) names.push_back(node_names[static_cast<size_t>(n)]);
      }
      nlohmann::ordered_json j{{"name", l.name},
                               {"op_type", cost::hw_op_type(l.op, l.backend)},
                               {"ir_nodes", l.ir_nodes},
                               {"ir_node_names", names},
                               {"pe", l.folding.pe},
                               {"simd", l.folding.simd},
                               {"cycles", e.cycles},
                               {"lut", e.res.lut},
                               {"lutram", e.res.lutram},
                               {"bram18", e.res.bram18},
                               {"uram", e.res.uram},
                               {"dsp", e.res.dsp},
                               {"input_type", l.input_type.name()},
                               {"output_type", l.output_type.name()}};
      if (l.op == cost::HwOp::kMvau || l.op == cost::HwOp::kVvau) {
        j["weight_type"] = e.weight_type.name();
        j["acc_type"] = e.acc_type.name();
      }
      j["notes"] = e.notes;
      layers.push_back(j);
    }
    doc["layers"] = layers;
    doc["total"] = {{"lut", est.total.lut},   {"lutram", est.total.lutram}, {"bram18", est.total.bram18},
                    {"uram", est.total.uram}, {"dsp", est.total.dsp},       {"cycles", est.critical_path_cycles}};
    nlohmann::ordered_json util;
    for (const auto& f : fits) {
      util[f.resource] = {{"used", f.used},
                          {"available", f.available},
                          {"usable_fraction", f.usable_fraction},
                          {"percent", f.available > 0 ? f.percent() : 0.0},
                          {"fits", f.fits()}};
    }
    doc["utilization"] = util;
    doc["fits"] = all_fit;
    if (est.bottleneck >= 0) {
      doc["bottleneck"] = {{"name", hw.layers[static_cast<size_t>(est.bottleneck)].name}, {"cycles", est.max_cycles}};
    }
    doc["max_cycles"] = est.max_cycles;
    doc["critical_path_cycles"] = est.critical_path_cycles;
    doc["fps"] = est.fps(clock);
    doc["latency_ms"] = est.latency_ms(clock);
    doc["software_nodes"] = software;
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }

  std::printf("model %s on %s (%s, %s, %s MHz)\nfolding: %s%s\n\n", o.model.c_str(), board.name.c_str(),
              board.part.c_str(), dsp_block_name(board.dsp_block()).c_str(), fixed(clock, 1).c_str(),
              folding_label.c_str(), o.finn_exact ? "; FINN's figures reproduced exactly (--finn-exact)" : "");
  std::vector<std::vector<std::string>> rows{
      {"layer", "IR nodes", "PE", "SIMD", "cycles", "LUT", "LUTRAM", "BRAM18", "URAM", "DSP", "notes"}};
  for (size_t i = 0; i < hw.layers.size(); ++i) {
    const auto& l = hw.layers[i];
    const auto& e = est.layers[i];
    rows.push_back({l.name, nodes_label(l, node_names), uses_pe(l.op) ? std::to_string(l.folding.pe) : "-",
                    uses_simd(l.op) ? std::to_string(l.folding.simd) : "-", grouped(e.cycles), grouped(e.res.lut),
                    grouped(e.res.lutram), grouped(e.res.bram18), grouped(e.res.uram), grouped(e.res.dsp),
                    join(e.notes, "; ")});
  }
  rows.push_back({"total", "", "", "", grouped(est.critical_path_cycles), grouped(est.total.lut),
                  grouped(est.total.lutram), grouped(est.total.bram18), grouped(est.total.uram), grouped(est.total.dsp),
                  ""});
  std::vector<std::string> avail{"board", "", "", "", ""};
  std::vector<std::string> pct{"% of board", "", "", "", ""};
  for (const auto& f : fits) {
    avail.push_back(grouped(f.available));
    pct.push_back(f.available > 0 ? fixed(f.percent(), 1) + "%" : (f.used > 0 ? "n/a!" : "-"));
  }
  avail.push_back("");
  pct.push_back("");
  rows.push_back(avail);
  rows.push_back(pct);
  print_table(rows, {false, false, true, true, true, true, true, true, true, true, false});

  std::string limits;
  for (const auto& f : fits) {
    if (f.available == 0 && f.used == 0) continue;
    limits += (limits.empty() ? "" : ", ") + f.resource + " " + fixed(f.percent(), 1) + "% " +
              (f.fits() ? "<= " : "> ") + fixed(100.0 * f.usable_fraction, 0) + "%";
  }
  std::printf("\nfits on %s: %s (%s usable)\n", board.name.c_str(), all_fit ? "yes" : "NO", limits.c_str());
  if (est.bottleneck >= 0) {
    std::printf("bottleneck: %s, %s cycles per frame -> %s frames/s at %s MHz\n",
                hw.layers[static_cast<size_t>(est.bottleneck)].name.c_str(), grouped(est.max_cycles).c_str(),
                fixed(est.fps(clock), 1).c_str(), fixed(clock, 1).c_str());
    std::printf("latency: %s ms (critical path %s cycles)\n", fixed(est.latency_ms(clock), 3).c_str(),
                grouped(est.critical_path_cycles).c_str());
  }
  if (auto_fold) {
    std::printf("auto folding: target %s cycles, achieved %s%s\n", grouped(auto_fold->target_cycles).c_str(),
                grouped(auto_fold->achieved_cycles).c_str(), auto_fold->relaxed ? " (second pass relaxed)" : "");
  }
  if (!software.empty()) std::printf("left in software: %s\n", join(software, ", ").c_str());
  std::printf("FIFOs, data-width converters and the shell are not included (as in FINN's estimate).\n");
}

}  // namespace

void add_estimate_command(CLI::App& app) {
  auto o = std::make_shared<EstimateCliOptions>();
  app.add_option("model", o->model, "QONNX / FINN-ONNX model, or a model already in FINN hardware layers")->required();
  app.add_option("--board", o->board, "board name, as listed by `dnnsplit boards`")->required();
  app.add_option("--boards-file", o->boards_files, "extra boards (format of data/boards.json); may repeat");
  auto* folding = app.add_option("--folding", o->folding,
                                 "FINN folding_config JSON (layer names as FINN gives them, e.g. MVAU_hls_0)");
  auto* fps = app.add_option("--target-fps", o->target_fps,
                             "choose PE/SIMD automatically for this many frames/s (FINN's SetFolding)");
  folding->excludes(fps);
  app.add_option("--clock", o->clock_mhz, "fabric clock in MHz (default: the board's)");
  app.add_flag("--json", o->json, "print JSON: layers array, total {lut, bram18, uram, dsp, cycles}, fit, fps");
  app.add_flag("--separate-thresholds", o->separate_thresholds,
               "keep activations as Thresholding layers (FINN's MobileNet ZCU10x flow) instead of embedding them");
  app.add_option("--top-k", o->top_k, "append a LabelSelect with this K as finn-examples builds do; 0: none")
      ->capture_default_str();
  app.add_flag("--finn-exact", o->finn_exact,
               "reproduce FINN's estimate including its known errors (MVAU_rtl LUT = 0, hidden threshold BRAM)");
  app.add_option("--input-type", o->input_type,
                 "integer type of graph inputs that have none, as FINN builds annotate them (e.g. UINT8)");
  app.add_option("--mvau-wwidth-max", o->mvau_wwidth_max, "SetFolding's weight stream width limit per PE (bits)")
      ->capture_default_str();
  app.footer("Without --folding or --target-fps every layer has FINN's default PE = SIMD = 1.");
  app.callback([o] { run_estimate(*o); });
}

}  // namespace dnnsplit::cli
