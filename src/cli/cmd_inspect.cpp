// dnnsplit inspect MODEL [--json]: the per-layer table of a model.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dnnsplit/analysis.h"
#include "dnnsplit/model_io.h"

namespace dnnsplit::cli {

namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
};

// 1542848 -> "1,542,848"
std::string grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return value < 0 ? "-" + digits : digits;
}

std::string weight_column(const LayerRow& row) { return row.weight_type.empty() ? "-" : row.weight_type; }

void print_table(const std::vector<std::vector<std::string>>& cells, const std::vector<bool>& right_aligned) {
  std::vector<size_t> width(cells.front().size(), 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      const std::string pad(width[c] - line[c].size(), ' ');
      text += right_aligned[c] ? pad + line[c] : line[c] + pad;
      if (c + 1 < line.size()) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::printf("%s\n", text.c_str());
  }
}

void run_inspect(const InspectOptions& options) {
  const ir::Graph graph = import_model(options.model);
  const std::vector<LayerRow> rows = analyze_layers(graph);
  const LayerTotals total = layer_totals(rows);

  if (options.json) {
    nlohmann::json report{{"model", options.model}, {"inputs", nlohmann::json::array()},
                          {"layers", nlohmann::json::array()}};
    for (int id : graph.inputs) {
      const auto& t = graph.tensor(id);
      report["inputs"].push_back({{"name", t.name}, {"shape", t.shape}, {"type", tensor_type_name(t)},
                                  {"bytes_per_image", packed_bytes_per_image(graph, id)}});
    }
    for (const auto& row : rows) {
      report["layers"].push_back({{"name", row.name},
                                  {"op", row.op},
                                  {"detail", row.detail},
                                  {"output_tensor", graph.tensor(row.output_tensor).name},
                                  {"output_shape", row.output_shape},
                                  {"weight_bits", row.weight_bits},
                                  {"weight_type", row.weight_type},
                                  {"act_bits", row.act_bits},
                                  {"act_type", row.act_type},
                                  {"params", row.params},
                                  {"macs", row.macs},
                                  {"output_bytes", row.output_bytes}});
    }
    report["total"] = {{"layers", total.layers},
                       {"params", total.params},
                       {"macs", total.macs},
                       {"weight_bytes", total.weight_bytes}};
    std::printf("%s\n", report.dump(2).c_str());
    return;
  }

  std::printf("model %s (opset %lld)\n", options.model.c_str(), static_cast<long long>(graph.opset));
  for (int id : graph.inputs) {
    const auto& t = graph.tensor(id);
    std::printf("input %s %s %s, %s bytes/image\n", t.name.c_str(), shape_to_string(t.shape).c_str(),
                tensor_type_name(t).c_str(), grouped(packed_bytes_per_image(graph, id)).c_str());
  }
  std::vector<std::vector<std::string>> cells{
      {"#", "layer", "op", "detail", "output", "weights", "out type", "params", "MACs", "out bytes"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    cells.push_back({std::to_string(i), row.name, row.op, row.detail, shape_to_string(row.output_shape),
                     weight_column(row), row.act_type, grouped(row.params), grouped(row.macs),
                     grouped(row.output_bytes)});
  }
  print_table(cells, {true, false, false, false, false, false, false, true, true, true});
  std::printf("total: %lld layers, %s params (%s bytes packed), %s MACs/image\n",
              static_cast<long long>(total.layers), grouped(total.params).c_str(),
              grouped(total.weight_bytes).c_str(), grouped(total.macs).c_str());
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  app.footer(
      "A layer is a Conv / MatMul / Gemm / pool / residual join / TopK with the BatchNorm, activation and "
      "quantizer that follow it. params counts weights (not biases or BatchNorm). MACs and out bytes are per "
      "image; out bytes are the layer's output packed at its bit width (float: 4 bytes per value).");
  app.add_option("model", options->model, "ONNX / QONNX / FINN-ONNX model file")->required();
  app.add_flag("--json", options->json, "print a JSON report (layers array and total) instead of the table");
  app.callback([options] { run_inspect(*options); });
}

}  // namespace dnnsplit::cli
