// verify_plan: the whole model and the chain of stage files give bit-identical outputs.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "dnnsplit/dataset.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json read_plan_json(const std::string& dir) {
  const fs::path path = fs::path(dir) / "plan.json";
  std::ifstream in(path);
  check(in.good(), dir + ": no plan.json (not a plan directory written by 'dnnsplit plan'?)");
  std::stringstream text;
  text << in.rdbuf();
  json plan;
  try {
    plan = json::parse(text.str());
  } catch (const json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + e.what());
  }
  check(plan.is_object() && plan.value("schema", "") == "dnnsplit-plan/1",
        path.string() + ": field 'schema' is not \"dnnsplit-plan/1\"");
  check(plan.contains("stages") && plan["stages"].is_array() && !plan["stages"].empty(),
        path.string() + ": field 'stages' is missing or empty");
  return plan;
}

std::string field_string(const json& object, const std::string& key, const std::string& where) {
  check(object.contains(key) && object[key].is_string(), where + ": field '" + key + "' is missing or not a string");
  return object[key].get<std::string>();
}

std::vector<std::string> tensor_names(const json& stage, const std::string& key, const std::string& where) {
  check(stage.contains(key) && stage[key].is_array(), where + ": field '" + key + "' is missing");
  std::vector<std::string> names;
  for (const auto& t : stage[key]) names.push_back(field_string(t, "name", where + " " + key));
  return names;
}

// Deterministic on every platform: raw 64-bit draws mapped by hand (std distributions are not
// specified bit-exactly).
class Draw {
 public:
  explicit Draw(uint64_t seed) : engine_(seed) {}
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  int64_t integer(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  std::mt19937_64 engine_;
};

// A random input for a graph input: values on its quantization grid when it has one, else
// alternately reals in [-1, 1) and image-like integers 0..255.
Tensor random_input(const ir::TensorInfo& info, Draw& draw, int sample) {
  Shape shape = info.shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d == 0 && shape[d] < 0) shape[d] = 1;
    check(shape[d] >= 0, "input '" + info.name + "' has a dynamic dimension " + std::to_string(d) +
                             "; give inputs with --input");
  }
  const int64_t count = shape_numel(shape);
  std::vector<double> values(static_cast<size_t>(count));
  if (info.quant) {
    const auto& q = *info.quant;
    const int64_t channels = q.per_channel() && q.channel_axis >= 0 && static_cast<size_t>(q.channel_axis) < shape.size()
                                 ? shape[static_cast<size_t>(q.channel_axis)]
                                 : 1;
    int64_t inner = 1;
    if (channels > 1) {
      for (size_t d = static_cast<size_t>(q.channel_axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    }
    for (int64_t i = 0; i < count; ++i) {
      const size_t c = channels > 1 ? static_cast<size_t>((i / inner) % channels) : 0;
      const double scale = q.scale.size() > c ? q.scale[c] : q.scale[0];
      const double zero = q.zero_point.size() > c ? q.zero_point[c] : q.zero_point[0];
      const int64_t level = q.bipolar ? (draw.integer(0, 1) ? 1 : -1) : draw.integer(q.min_int(), q.max_int());
      values[static_cast<size_t>(i)] = (static_cast<double>(level) - zero) * scale;
    }
  } else if (info.type == ElemType::kFloat || info.type == ElemType::kDouble) {
    for (auto& v : values) v = sample % 2 == 0 ? draw.unit() * 2.0 - 1.0 : static_cast<double>(draw.integer(0, 255));
  } else {
    const int64_t hi = info.type == ElemType::kBool ? 1 : 127;
    for (auto& v : values) v = static_cast<double>(draw.integer(0, hi));
  }
  if (info.type == ElemType::kFloat) {
    std::vector<float> f(values.begin(), values.end());
    return Tensor::from_floats(shape, std::move(f));
  }
  Tensor t = Tensor::zeros(info.type, shape);
  for (int64_t i = 0; i < count; ++i) {
    if (info.type == ElemType::kDouble) {
      t.f64[static_cast<size_t>(i)] = values[static_cast<size_t>(i)];
    } else {
      t.i64[static_cast<size_t>(i)] = static_cast<int64_t>(values[static_cast<size_t>(i)]);
    }
  }
  return t;
}

std::string describe_difference(const Tensor& a, const Tensor& b) {
  if (a.type != b.type) return "element types differ (" + elem_type_name(a.type) + " vs " + elem_type_name(b.type) + ")";
  if (a.shape != b.shape) return "shapes differ (" + shape_to_string(a.shape) + " vs " + shape_to_string(b.shape) + ")";
  int64_t differing = 0;
  int64_t first = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const size_t k = static_cast<size_t>(i);
    bool same = false;
    if (a.type == ElemType::kFloat) {
      same = std::memcmp(&a.f32[k], &b.f32[k], sizeof(float)) == 0;  // bit for bit, as tensors_identical
    } else if (a.type == ElemType::kDouble) {
      same = std::memcmp(&a.f64[k], &b.f64[k], sizeof(double)) == 0;
    } else {
      same = a.i64[k] == b.i64[k];
    }
    if (!same) {
      ++differing;
      if (first < 0) first = i;
    }
  }
  std::ostringstream out;
  out << differing << " of " << a.numel() << " values differ";
  if (first >= 0) out << " (first at index " << first << ": " << a.at(first) << " vs " << b.at(first) << ")";
  return out.str();
}

}  // namespace

VerifyResult verify_plan(const std::string& model_path, const std::string& plan_dir, const VerifyOptions& options) {
  check(options.samples >= 0, "--samples must not be negative");
  const json plan = read_plan_json(plan_dir);
  const std::string plan_file = (fs::path(plan_dir) / "plan.json").string();
  check(plan.contains("source_model") && plan["source_model"].is_object(), plan_file + ": field 'source_model' is missing");
  const std::string expected_sha = field_string(plan["source_model"], "sha256", plan_file + " source_model");
  const std::string model_sha = sha256_file(model_path);
  check(model_sha == expected_sha, model_path + ": sha256 " + model_sha + " differs from the plan's source model (" +
                                       expected_sha + "); this plan was made for another model");

  engine::Session whole(import_model(model_path));
  struct StageRun {
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    engine::Session session;
  };
  std::vector<StageRun> chain;
  for (const auto& stage : plan["stages"]) {
    const std::string where = plan_file + " stage " + std::to_string(chain.size());
    const std::string name = field_string(stage, "file", where);
    // Stage files live in the plan directory itself; a path could point anywhere.
    check(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
          where + ": field 'file' must be a file name in the plan directory, got '" + name + "'");
    const std::string file = (fs::path(plan_dir) / name).string();
    const std::string sha = sha256_file(file);
    check(sha == field_string(stage, "sha256", where), file + ": sha256 " + sha + " differs from plan.json's; the file was changed");
    ir::Graph graph = import_model(file);
    StageRun run{tensor_names(stage, "inputs", where), tensor_names(stage, "outputs", where), engine::Session(std::move(graph))};
    const ir::Graph& g = run.session.graph();
    std::vector<std::string> in_names;
    std::vector<std::string> out_names;
    for (int id : g.inputs) in_names.push_back(g.tensor(id).name);
    for (int id : g.outputs) out_names.push_back(g.tensor(id).name);
    check(in_names == run.inputs && out_names == run.outputs,
          file + ": graph inputs/outputs do not match the stage's inputs/outputs in plan.json");
    chain.push_back(std::move(run));
  }

  const ir::Graph& model = whole.graph();
  std::vector<std::vector<Tensor>> batches;
  for (int s = 0; s < options.samples; ++s) {
    Draw draw(options.seed * 1000003ULL + static_cast<uint64_t>(s));
    std::vector<Tensor> inputs;
    for (int id : model.inputs) inputs.push_back(random_input(model.tensor(id), draw, s));
    batches.push_back(std::move(inputs));
  }
  for (const auto& path : options.input_files) {
    check(model.inputs.size() == 1, path + ": --input needs a model with one input; '" + model_path + "' has " +
                                        std::to_string(model.inputs.size()));
    batches.push_back({prepare_model_input(model, 0, read_npy(path), path)});
  }

  VerifyResult result;
  for (size_t b = 0; b < batches.size(); ++b) {
    const std::vector<Tensor> expected = whole.run(batches[b]);
    std::map<std::string, Tensor> values;
    for (size_t i = 0; i < model.inputs.size(); ++i) values[model.tensor(model.inputs[i]).name] = batches[b][i];
    for (size_t k = 0; k < chain.size(); ++k) {
      std::vector<Tensor> inputs;
      for (const auto& name : chain[k].inputs) {
        auto it = values.find(name);
        check(it != values.end(), plan_file + ": stage " + std::to_string(k) + " reads '" + name +
                                      "', which no earlier stage produces");
        inputs.push_back(it->second);
      }
      std::vector<Tensor> outputs = chain[k].session.run(inputs);
      for (size_t i = 0; i < outputs.size(); ++i) values[chain[k].outputs[i]] = std::move(outputs[i]);
    }
    const std::string label = b < static_cast<size_t>(options.samples)
                                  ? "random sample " + std::to_string(b)
                                  : options.input_files[b - static_cast<size_t>(options.samples)];
    for (size_t i = 0; i < model.outputs.size(); ++i) {
      const std::string& name = model.tensor(model.outputs[i]).name;
      auto it = values.find(name);
      ++result.outputs_compared;
      if (it == values.end()) {
        result.mismatches.push_back(label + ", output '" + name + "': the last stage does not produce it");
      } else if (!tensors_identical(expected[i], it->second)) {
        result.mismatches.push_back(label + ", output '" + name + "': " + describe_difference(expected[i], it->second));
      }
    }
    ++result.inputs_run;
  }
  return result;
}

}  // namespace dnnsplit::partition
