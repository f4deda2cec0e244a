// FINN folding configuration files (the folding_config_file of FINN's builder, applied by its
// ApplyConfig transformation): parsing, applying by layer name, writing back.
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

namespace {

using json = nlohmann::json;

// Keys FINN configs carry that do not change an estimate.
const std::set<std::string>& ignorable_keys() {
  static const std::set<std::string> keys{"inFIFODepths", "outFIFODepths", "preferred_impl_style", "slr", "mem_port",
                                          "partition_id", "device_id",     "cycles_estimate"};
  return keys;
}

bool is_fifo_or_dwc(const std::string& name) {
  return name.rfind("StreamingFIFO", 0) == 0 || name.rfind("StreamingDataWidthConverter", 0) == 0;
}

FoldingEntry parse_entry(const json& value, const std::string& where) {
  check(value.is_object(), where + " must be an object of attributes");
  FoldingEntry entry;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it->is_string()) {
      entry.strings[it.key()] = it->get<std::string>();
    } else if (it->is_boolean()) {
      entry.ints[it.key()] = it->get<bool>() ? 1 : 0;
    } else if (it->is_number_integer()) {
      entry.ints[it.key()] = it->get<int64_t>();
    } else if (it->is_number_float() &&
               it->get<double>() == static_cast<double>(static_cast<int64_t>(it->get<double>()))) {
      entry.ints[it.key()] = static_cast<int64_t>(it->get<double>());
    } else {
      throw Error(where + ": attribute '" + it.key() + "' must be an integer or a string");
    }
  }
  return entry;
}

RamStyle parse_ram_style(const std::string& value, const std::string& where) {
  if (value == "auto") return RamStyle::kAuto;
  if (value == "block") return RamStyle::kBlock;
  if (value == "distributed") return RamStyle::kDistributed;
  if (value == "ultra") return RamStyle::kUltra;
  throw Error(where + ": '" + value + "' is not one of auto, block, distributed, ultra");
}

MemMode parse_mem_mode(const std::string& value, const std::string& where) {
  // FINN < 0.10 spelled them const / decoupled.
  if (value == "internal_embedded" || value == "const") return MemMode::kInternalEmbedded;
  if (value == "internal_decoupled" || value == "decoupled") return MemMode::kInternalDecoupled;
  if (value == "external") return MemMode::kExternal;
  throw Error(where + ": '" + value + "' is not one of internal_embedded, internal_decoupled, external");
}

ResType parse_res_type(const std::string& value, const std::string& where) {
  if (value == "auto") return ResType::kAuto;
  if (value == "lut") return ResType::kLut;
  if (value == "dsp") return ResType::kDsp;
  throw Error(where + ": '" + value + "' is not one of auto, lut, dsp");
}

bool parse_flag(int64_t value, const std::string& where) {
  check(value == 0 || value == 1, where + ": must be 0 or 1, got " + std::to_string(value));
  return value == 1;
}

// Sets one attribute on a layer; `where` names file, layer and key for messages.
void set_attribute(HwLayer& layer, const std::string& key, const FoldingEntry& entry, const std::string& where) {
  const auto s = entry.strings.find(key);
  const auto i = entry.ints.find(key);
  auto need_string = [&]() -> const std::string& {
    check(s != entry.strings.end(), where + " must be a string");
    return s->second;
  };
  auto need_int = [&]() -> int64_t {
    check(i != entry.ints.end(), where + " must be an integer");
    return i->second;
  };
  Folding& f = layer.folding;
  if (key == "PE") {
    f.pe = need_int();
    check(f.pe >= 1, where + " must be at least 1");
  } else if (key == "SIMD") {
    f.simd = need_int();
    check(f.simd >= 1, where + " must be at least 1");
  } else if (key == "mem_mode") {
    f.mem_mode = parse_mem_mode(need_string(), where);
  } else if (key == "ram_style") {
    f.ram_style = parse_ram_style(need_string(), where);
  } else if (key == "ram_style_thresholds") {
    f.ram_style_thresholds = parse_ram_style(need_string(), where);
    check(f.ram_style_thresholds != RamStyle::kUltra, where + ": ultra is not allowed for thresholds");
  } else if (key == "resType") {
    f.res_type = parse_res_type(need_string(), where);
  } else if (key == "runtime_writeable_weights") {
    f.runtime_writeable_weights = parse_flag(need_int(), where);
  } else if (key == "parallel_window") {
    f.parallel_window = parse_flag(need_int(), where);
  } else if (key == "depth_trigger_bram") {
    f.depth_trigger_bram = need_int();
    check(f.depth_trigger_bram >= 0, where + " must not be negative");
  } else if (key == "depth_trigger_uram") {
    f.depth_trigger_uram = need_int();
    check(f.depth_trigger_uram >= 0, where + " must not be negative");
  }
  // deep_pipeline, uniform_thres: accepted, no effect on the estimate.
}

bool op_has_key(const HwLayer& layer, const std::string& key) {
  const auto& keys = detail::op_rules(layer.op).keys;
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

void apply_entry(HwLayer& layer, const FoldingEntry& entry, const std::string& source) {
  std::set<std::string> keys;
  for (const auto& [k, v] : entry.strings) keys.insert(k);
  for (const auto& [k, v] : entry.ints) keys.insert(k);
  for (const auto& key : keys) {
    if (ignorable_keys().count(key)) continue;
    const std::string where = "folding " + source + ": layer '" + layer.name + "' attribute '" + key + "'";
    check(op_has_key(layer, key), "folding " + source + ": layer '" + layer.name + "' (" +
                                      hw_op_type(layer.op, layer.backend) + ") has no attribute '" + key + "'");
    set_attribute(layer, key, entry, where);
  }
}

std::string missing_layers_message(const HwGraph& hw, const FoldingConfig& config,
                                   const std::vector<std::string>& missing) {
  std::ostringstream msg;
  msg << "folding " << config.source << ": layer '" << missing.front() << "' does not exist in "
      << (hw.source.empty() ? "the model" : hw.source);
  if (missing.size() > 1) msg << " (nor " << missing.size() - 1 << " more names of the file)";
  msg << "; the model's layers are";
  const size_t shown = std::min<size_t>(hw.layers.size(), 8);
  for (size_t i = 0; i < shown; ++i) msg << " " << hw.layers[i].name;
  if (hw.layers.size() > shown) msg << " ... " << hw.layers.back().name;
  const bool separate_flow = std::any_of(missing.begin(), missing.end(), [](const std::string& name) {
    return name.rfind("MVAU_rtl", 0) == 0 || name.rfind("Thresholding_rtl", 0) == 0;
  });
  if (separate_flow)
    msg << "; if the file comes from FINN's separate-thresholds flow, lower with --separate-thresholds";
  return msg.str();
}

}  // namespace

FoldingConfig parse_folding(const std::string& json_text, const std::string& source_name) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error("folding " + source_name + ": not valid JSON: " + e.what());
  }
  check(doc.is_object(), "folding " + source_name + ": the top level must be an object of layer names");
  FoldingConfig config;
  config.source = source_name;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& name = it.key();
    if (name == "Defaults") {
      check(it->is_object(), "folding " + source_name + ": 'Defaults' must be an object");
      for (auto d = it->begin(); d != it->end(); ++d) {
        const std::string where = "folding " + source_name + ": Defaults '" + d.key() + "'";
        check(d->is_array() && d->size() == 2, where + " must be [value, [op types] or \"all\"]");
        FoldingDefault def;
        def.entry = parse_entry(json{{d.key(), (*d)[0]}}, where);
        const json& ops = (*d)[1];
        if (ops.is_string() && ops.get<std::string>() == "all") {
          def.all_ops = true;
        } else {
          check(ops.is_array(), where + ": the op list must be an array or \"all\"");
          for (const auto& op : ops) {
            check(op.is_string(), where + ": op types must be strings");
            def.op_types.push_back(op.get<std::string>());
          }
        }
        config.defaults.push_back(std::move(def));
      }
    } else if (is_fifo_or_dwc(name)) {
      config.ignored.push_back(name);  // FINN's estimate excludes FIFOs and width converters
    } else {
      config.layers[name] = parse_entry(*it, "folding " + source_name + ": layer '" + name + "'");
    }
  }
  return config;
}

FoldingConfig read_folding_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "folding " + path + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_folding(text.str(), path);
}

void apply_folding(HwGraph& target, const FoldingConfig& config, bool allow_missing) {
  HwGraph hw = target;  // all or nothing: the graph is left unchanged when the file is rejected
  for (const auto& def : config.defaults) {
    for (auto& layer : hw.layers) {
      const std::string type = hw_op_type(layer.op, layer.backend);
      const bool listed = std::find(def.op_types.begin(), def.op_types.end(), type) != def.op_types.end();
      if (!listed && !def.all_ops) continue;
      bool applicable = true;
      for (const auto& [k, v] : def.entry.strings) applicable = applicable && op_has_key(layer, k);
      for (const auto& [k, v] : def.entry.ints) applicable = applicable && op_has_key(layer, k);
      if (!applicable && def.all_ops) continue;  // "all" means: where the attribute exists
      apply_entry(layer, def.entry, config.source);
    }
  }
  std::vector<std::string> missing;
  for (const auto& [name, entry] : config.layers) {
    const int index = hw.find_layer(name);
    if (index < 0) {
      missing.push_back(name);
      continue;
    }
    apply_entry(hw.layers[static_cast<size_t>(index)], entry, config.source);
  }
  check(allow_missing || missing.empty(), missing.empty() ? "" : missing_layers_message(hw, config, missing));
  for (const auto& layer : hw.layers) {
    try {
      detail::op_rules(layer.op).validate(layer);
    } catch (const Error& e) {
      throw Error("folding " + config.source + ": " + e.what());
    }
  }
  target = std::move(hw);
}

void validate_folding(const HwGraph& hw) {
  for (const auto& layer : hw.layers) detail::op_rules(layer.op).validate(layer);
}

std::string folding_to_json(const HwGraph& hw) {
  nlohmann::ordered_json doc;
  doc["Defaults"] = nlohmann::ordered_json::object();
  for (const auto& layer : hw.layers) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    const Folding& f = layer.folding;
    for (const auto& key : detail::op_rules(layer.op).keys) {
      if (key == "PE") entry[key] = f.pe;
      if (key == "SIMD") entry[key] = f.simd;
      if (key == "ram_style") entry[key] = ram_style_name(f.ram_style);
      if (key == "resType") entry[key] = res_type_name(f.res_type);
      if (key == "mem_mode" && layer.op != HwOp::kThresholding) entry[key] = mem_mode_name(f.mem_mode);
      if (key == "ram_style_thresholds" && layer.thresholds) entry[key] = ram_style_name(f.ram_style_thresholds);
      if (key == "runtime_writeable_weights") entry[key] = f.runtime_writeable_weights ? 1 : 0;
      if (key == "parallel_window" && layer.backend == Backend::kRtl) entry[key] = f.parallel_window ? 1 : 0;
      if (key == "depth_trigger_bram" && layer.backend == Backend::kRtl) entry[key] = f.depth_trigger_bram;
      if (key == "depth_trigger_uram" && layer.backend == Backend::kRtl) entry[key] = f.depth_trigger_uram;
    }
    if (layer.op == HwOp::kThresholding && layer.backend == Backend::kRtl) entry.erase("ram_style");
    doc[layer.name] = entry;
  }
  return doc.dump(2) + "\n";
}

}  // namespace dnnsplit::cost
