// plan_model: cost model + strategy + stage export -> stage-K.onnx and plan.json
// (docs/plan-schema.md).
#include <cmath>
#include <map>
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

json board_json(const Board& b) {
  return {{"lut", b.resources.lut},
          {"ff", b.resources.ff},
          {"lutram", b.resources.lutram},
          {"bram18", b.resources.bram18},
          {"uram", b.resources.uram},
          {"dsp", b.resources.dsp},
          {"usable",
           {{"lut", b.usable.lut},
            {"ff", b.usable.ff},
            {"lutram", b.usable.lutram},
            {"bram18", b.usable.bram18},
            {"uram", b.usable.uram},
            {"dsp", b.usable.dsp}}},
          {"clock_mhz", b.clock_mhz},
          {"reconfiguration_ms", b.reconfig_ms},
          {"link_mbit_s", b.link_mbps},
          {"part", b.part},
          {"source", b.source}};
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

// FINN names layers <op type>_<n>, counting per op type in graph order (GiveUniqueNodeNames); a
// stage file built on its own restarts the count, so its folding must use the stage's names.
json stage_folding(const cost::HwGraph& hw, json& model_names) {
  cost::HwGraph local = hw;
  std::map<std::string, int> counters;
  for (auto& layer : local.layers) {
    model_names.push_back(layer.name);
    const std::string type = cost::hw_op_type(layer.op, layer.backend);
    layer.name = type + "_" + std::to_string(counters[type]++);
  }
  return local.layers.empty() ? json::object() : json::parse(cost::folding_to_json(local));
}

}  // namespace

std::string plan_model(const std::string& model_path, const PlanOptions& options, const std::string& out_dir) {
  const ir::Graph graph = import_model(model_path);
  const detail::ResolvedBoards boards = detail::resolve_boards(options.selection);
  const detail::ModelCuts cuts(graph, boards, options.selection);
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
    stage["inputs"] = tensors_json(graph, cuts.tensors(begin));
    stage["outputs"] = tensors_json(graph, cuts.tensors(end));
    stage["resources"] = resources_json(hw.estimate.total, board);
    json model_layer_names = json::array();
    stage["folding"] = stage_folding(hw.hw, model_layer_names);
    stage["hardware_layers_in_model"] = model_layer_names;
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
