// plan.json -> Plan, with every check the runtime relies on.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dnnsplit/error.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::orchestrator {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

ElemType dtype_from_name(const std::string& name, const std::string& where) {
  for (auto t : {ElemType::kFloat, ElemType::kDouble, ElemType::kInt64, ElemType::kInt32, ElemType::kInt16,
                 ElemType::kInt8, ElemType::kUint8, ElemType::kUint16, ElemType::kUint32, ElemType::kUint64,
                 ElemType::kBool}) {
    if (elem_type_name(t) == name) return t;
  }
  throw Error(where + ": unknown dtype '" + name + "'");
}

const json& field(const json& object, const char* key, const std::string& where) {
  check(object.is_object() && object.contains(key), where + ": field '" + key + "' is missing");
  return object.at(key);
}

double number(const json& object, const char* key, const std::string& where, double fallback, bool required) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) {
    check(!required, where + ": field '" + key + "' is missing");
    return fallback;
  }
  check(object.at(key).is_number(), where + ": field '" + key + "' is not a number");
  return object.at(key).get<double>();
}

wire::TensorSpec tensor_from_json(const json& j, const std::string& where) {
  wire::TensorSpec spec;
  spec.name = field(j, "name", where).get<std::string>();
  const std::string at = where + " tensor '" + spec.name + "'";
  spec.shape = field(j, "shape", at).get<Shape>();
  spec.type = dtype_from_name(field(j, "dtype", at).get<std::string>(), at);
  if (j.contains("quant") && !j.at("quant").is_null()) {
    const json& q = j.at("quant");
    ir::QuantType t;
    t.bits = field(q, "bits", at + " quant").get<int>();
    t.is_signed = field(q, "signed", at + " quant").get<bool>();
    t.narrow = q.value("narrow", false);
    t.bipolar = q.value("bipolar", false);
    t.scale = field(q, "scale", at + " quant").get<std::vector<float>>();
    t.zero_point = field(q, "zero_point", at + " quant").get<std::vector<float>>();
    t.channel_axis = q.value("channel_axis", -1);
    check(t.bits >= 1 && t.bits <= 64, at + ": quant bits " + std::to_string(t.bits) + " out of range");
    spec.quant = std::move(t);
  }
  spec.elements_per_image();  // every dimension after the batch must be known
  if (j.contains("bytes_per_image") && j.at("bytes_per_image").is_number_integer()) {
    const auto declared = j.at("bytes_per_image").get<int64_t>();
    check(declared == spec.bytes_per_image(), at + ": bytes_per_image is " + std::to_string(declared) + " but " +
                                                  std::to_string(spec.bytes_per_image()) +
                                                  " follow from its shape and bit width");
  }
  return spec;
}

std::vector<wire::TensorSpec> tensors_from_json(const json& list, const std::string& where) {
  check(list.is_array(), where + " is not a list");
  std::vector<wire::TensorSpec> out;
  for (const auto& j : list) out.push_back(tensor_from_json(j, where));
  return out;
}

void check_same_tensors(const std::vector<wire::TensorSpec>& a, const std::vector<wire::TensorSpec>& b,
                        const std::string& what) {
  check(a.size() == b.size(), what + ": " + std::to_string(a.size()) + " tensors vs " + std::to_string(b.size()));
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string diff = wire::spec_difference(a[i], b[i]);
    check(diff.empty(), what + ": " + diff);
  }
}

}  // namespace

Plan read_plan(const std::string& path) {
  fs::path file = path;
  if (fs::is_directory(file)) file /= "plan.json";
  std::ifstream in(file);
  check(in.good(), "cannot read plan " + file.string());
  const std::string where = file.string();
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(where + ": not valid JSON: " + e.what());
  }
  Plan plan;
  plan.dir = fs::absolute(file).parent_path().string();
  try {
    check(j.value("schema", "") == "dnnsplit-plan/1",
          where + ": schema is '" + j.value("schema", "") + "', expected 'dnnsplit-plan/1'");
    plan.model_inputs = tensors_from_json(field(j, "model_inputs", where), where + " model_inputs");
    plan.model_outputs = tensors_from_json(field(j, "model_outputs", where), where + " model_outputs");
    const json& stages = field(j, "stages", where);
    check(stages.is_array() && !stages.empty(), where + ": 'stages' must be a non-empty list");
    const json boards = j.value("boards", json::object());
    for (size_t k = 0; k < stages.size(); ++k) {
      const json& s = stages[k];
      const std::string at = where + " stages[" + std::to_string(k) + "]";
      PlanStage stage;
      stage.index = field(s, "index", at).get<int>();
      check(stage.index == static_cast<int>(k), at + ": index is " + std::to_string(stage.index));
      const std::string name = field(s, "file", at).get<std::string>();
      check(!name.empty() && fs::path(name).is_relative(), at + ": file must be a path relative to the plan directory");
      stage.file = (fs::path(plan.dir) / name).string();
      stage.sha256 = field(s, "sha256", at).get<std::string>();
      check(wire::is_sha256_hex(stage.sha256), at + ": sha256 '" + stage.sha256 + "' is not 64 lower-case hex digits");
      stage.board = s.value("board", "");
      stage.inputs = tensors_from_json(field(s, "inputs", at), at + " inputs");
      stage.outputs = tensors_from_json(field(s, "outputs", at), at + " outputs");
      const json timing = s.value("timing", json::object());
      const std::string tat = at + " timing";
      auto& t = stage.timing;
      t.board = stage.board;
      t.clock_hz = number(timing, "clock_hz", tat, 0, false);
      t.bottleneck_cycles = number(timing, "bottleneck_cycles", tat, 0, false);
      t.critical_path_cycles = number(timing, "critical_path_cycles", tat, t.bottleneck_cycles, false);
      // Board-wide figures: from the stage's timing, else from the board entry.
      const json board = boards.value(stage.board, json::object());
      t.reconfiguration_s = number(timing, "reconfiguration_s", tat,
                                   number(board, "reconfiguration_ms", at, 0, false) / 1000.0, false);
      t.link_bits_per_s = number(timing, "link_bits_per_s", tat, number(board, "link_mbit_s", at, 0, false) * 1e6, false);
      t.link_latency_s = number(timing, "link_latency_s", tat, 0, false);
      std::ifstream stage_in(stage.file, std::ios::binary);
      check(stage_in.good(), at + ": stage file " + stage.file + " cannot be read");
      const std::string bytes{std::istreambuf_iterator<char>(stage_in), std::istreambuf_iterator<char>()};
      const std::string actual = wire::sha256_hex(bytes);
      check(actual == stage.sha256, at + ": stage file " + stage.file + " has sha256 " + actual +
                                        ", plan.json says " + stage.sha256 + " (file changed after planning?)");
      stage.size_bytes = static_cast<int64_t>(bytes.size());
      plan.stages.push_back(std::move(stage));
    }
    check_same_tensors(plan.model_inputs, plan.stages.front().inputs, where + ": stage 0 inputs vs model_inputs");
    check_same_tensors(plan.model_outputs, plan.stages.back().outputs, where + ": last stage outputs vs model_outputs");
    for (size_t k = 0; k + 1 < plan.stages.size(); ++k) {
      check_same_tensors(plan.stages[k].outputs, plan.stages[k + 1].inputs,
                         where + ": stage " + std::to_string(k) + " outputs vs stage " + std::to_string(k + 1) + " inputs");
      int64_t bytes = 0;
      for (const auto& spec : plan.stages[k].outputs) bytes += spec.bytes_per_image();
      plan.cut_bytes_per_image.push_back(bytes);
    }
  } catch (const json::exception& e) {
    throw Error(where + ": " + e.what());
  }
  return plan;
}

}  // namespace dnnsplit::orchestrator
