// plan_model: cost model + strategy + stage export -> stage-K.onnx and plan.json
// (docs/plan-schema.md).
#include <cmath>
#include <nlohmann/json.hpp>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/partition.h"
#include "model_cuts.h"
#include "output_dir.h"

namespace dnnsplit::partition {

namespace {

using json = nlohmann::ordered_json;

json quant_json(const ir::QuantType& q) {
  return {{"finn_datatype", q.finn_name()}, {"bits", q.bits},       {"signed", q.is_signed},
          {"narrow", q.narrow},             {"bipolar", q.bipolar}, {"scale", q.scale},
          {"zero_point", q.zero_point},     {"channel_axis", q.channel_axis}};
}

json tensor_json(const ir::Graph& graph, int id) {
  const ir::TensorInfo& info = graph.tensor(id);
  return {{"name", info.name},
          {"shape", info.shape},
          {"dtype", elem_type_name(info.type)},
          {"quant", info.quant ? quant_json(*info.quant) : json(nullptr)},
          {"bytes_per_image", packed_bytes_per_image(graph, id)}};
}

json tensors_json(const ir::Graph& graph, const std::vector<int>& ids) {
  json list = json::array();
  for (int id : ids) list.push_back(tensor_json(graph, id));
  return list;
}

// The catalog entry (boards.json fields), with plan.json's names for the reconfiguration time and
// the link bandwidth.
json board_json(const Board& b) {
  json entry = json::parse(board_catalog_entry(b));
  entry["reconfiguration_ms"] = entry["reconfig_ms"];
  entry["link_mbit_s"] = entry["link_mbps"];
  entry.erase("reconfig_ms");
  entry.erase("link_mbps");
  return entry;
}

json resources_json(const cost::Resources& r, const Board& board) {
  json percent = json::object();
  for (const auto& fit : cost::fit_on_board(r, board)) percent[fit.resource] = fit.percent();
  return {{"lut", r.lut}, {"lutram", r.lutram}, {"bram18", r.bram18}, {"uram", r.uram}, {"dsp", r.dsp},
          {"percent", percent}};
}

// JSON has no infinity: a stage without hardware layers has no cycle bound.
json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json timing_json(const cost::Estimate& e, const Board& board) {
  const double clock_hz = board.clock_mhz * 1e6;
  return {{"clock_hz", clock_hz},
          {"bottleneck_cycles", e.max_cycles},
          {"critical_path_cycles", e.critical_path_cycles},
          {"estimated_fps", e.max_cycles > 0 ? number_or_null(e.fps(board.clock_mhz)) : json(nullptr)},
          {"latency_ms", e.latency_ms(board.clock_mhz)},
          {"reconfiguration_s", board.reconfig_ms / 1000.0},
          {"link_bits_per_s", board.link_mbps * 1e6}};
}

// A stage file built on its own restarts FINN's layer counts (GiveUniqueNodeNames), so its
// folding uses the stage's names; `names` maps the model's layer names to them.
json stage_folding(const cost::HwGraph& hw, std::vector<std::pair<std::string, std::string>>& names) {
  cost::HwGraph local = hw;
  cost::assign_finn_names(local);
  for (size_t l = 0; l < hw.layers.size(); ++l) names.emplace_back(hw.layers[l].name, local.layers[l].name);
  return local.layers.empty() ? json::object() : json::parse(cost::folding_to_json(local));
}

}  // namespace

std::string plan_model(const std::string& model_path, const PlanOptions& options, const std::string& out_dir) {
  const detail::ResolvedBoards boards = detail::resolve_boards(options.selection);
  const detail::ModelCuts cuts(import_model(model_path), boards, options.selection);
  const ir::Graph& graph = cuts.graph();  // in planning order
  const CutTable table = cuts.cut_table(boards);
  const Split split = solve(table, options.strategy, options.stages);

  json plan;
  plan["schema"] = "dnnsplit-plan/1";
  plan["created_by"] = "dnnsplit 0.1.0";
  plan["source_model"] = {{"path", model_path}, {"sha256", sha256_file(model_path)}};
  plan["strategy"] = strategy_name(options.strategy);
  plan["objective"] = {{"max_stage_seconds", split.max_stage_seconds},
                       {"total_cut_bytes", split.total_cut_bytes}};
  plan["folding_source"] = options.selection.folding_file.empty()
                               ? "FINN default folding to split; fastest SetFolding that fits, per stage"
                               : options.selection.folding_file;
  json boards_used = json::object();
  for (int t : split.boards) boards_used[boards.types[static_cast<size_t>(t)].name] = board_json(boards.types[static_cast<size_t>(t)]);
  plan["boards"] = boards_used;
  plan["model_inputs"] = tensors_json(graph, graph.inputs);
  plan["model_outputs"] = tensors_json(graph, graph.outputs);

  detail::FileList files;
  json stages = json::array();
  json cut_list = json::array();
  int begin = 0;
  for (int k = 0; k < split.stages(); ++k) {
    const int end = split.ends[static_cast<size_t>(k)];
    const int type = split.boards[static_cast<size_t>(k)];
    const Board& board = boards.types[static_cast<size_t>(type)];
    const int first_node = cuts.position(begin);
    const int end_node = cuts.position(end);
    const std::string file = "stage-" + std::to_string(k) + ".onnx";
    const ir::Graph stage_graph =
        extract_stage(graph, first_node, end_node, (graph.name.empty() ? "model" : graph.name) + "_stage" + std::to_string(k));
    std::string bytes = export_model_to_bytes(stage_graph);
    const detail::StageHardware& hw = cuts.stage(type, begin, end);

    json stage;
    stage["index"] = k;
    stage["file"] = file;
    stage["sha256"] = sha256_hex(bytes);
    stage["board"] = board.name;
    json node_names = json::array();
    for (int n = first_node; n < end_node; ++n) node_names.push_back(graph.nodes[static_cast<size_t>(n)].name);
    stage["nodes"] = node_names;
    json software = json::array();
    for (int n = first_node; n < end_node; ++n) {
      if (cuts.board(type).hw.node_layer[static_cast<size_t>(n)] < 0) software.push_back(graph.nodes[static_cast<size_t>(n)].name);
    }
    stage["software_nodes"] = software;
    stage["inputs"] = tensors_json(graph, cuts.tensors(begin));
    stage["outputs"] = tensors_json(graph, cuts.tensors(end));
    stage["resources"] = resources_json(hw.estimate.total, board);
    std::vector<std::pair<std::string, std::string>> layer_names;
    stage["folding"] = stage_folding(hw.hw, layer_names);
    json model_layer_names = json::array();
    for (const auto& names : layer_names) model_layer_names.push_back(names.first);
    stage["hardware_layers_in_model"] = model_layer_names;
    json memory = json::array();
    for (const auto& choice : cuts.memory_choices(type, begin, end)) {
      std::string local;
      for (const auto& names : layer_names) {
        if (names.first == choice.layer) local = names.second;
      }
      memory.push_back({{"layer", choice.layer}, {"stage_layer", local}, {"weights", choice.weights},
                        {"reason", choice.reason}});
    }
    stage["memory_choices"] = memory;
    stage["timing"] = timing_json(hw.estimate, board);
    stage["seconds_per_image"] = stage_seconds(table, begin, end, type);
    stages.push_back(stage);
    files.emplace_back(file, std::move(bytes));
    if (k + 1 < split.stages()) {
      cut_list.push_back({{"after_stage", k},
                          {"bytes_per_image", cuts.bytes(end)},
                          {"tensors", tensors_json(graph, cuts.tensors(end))}});
    }
    begin = end;
  }
  plan["stages"] = stages;
  plan["cuts"] = cut_list;
  std::string text = plan.dump(2) + "\n";
  files.emplace_back("plan.json", text);
  detail::write_directory_atomically(out_dir, files, "plan.json");
  return text;
}

}  // namespace dnnsplit::partition
