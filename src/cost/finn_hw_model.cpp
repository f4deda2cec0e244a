// Reading models FINN has already converted to hardware layers (finn.custom_op.fpgadataflow*
// domains): each node's attributes carry its shape, data types and folding, so the estimate
// follows exactly what FINN would compute for that file. Accepts current names (MVAU_hls,
// Thresholding_rtl, ...) and the pre-0.10 ones (MatrixVectorActivation, FMPadding_Batch, ...).
#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "dnnsplit/error.h"
#include "layers.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit::cost {

namespace {

constexpr const char* kHwDomain = "finn.custom_op.fpgadataflow";

onnx::ModelProto read_proto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), path + ": cannot open the file");
  onnx::ModelProto model;
  check(model.ParseFromIstream(&in), path + ": not a valid ONNX model");
  return model;
}

// Node attribute access with messages naming file, node and attribute.
class Attrs {
 public:
  Attrs(const onnx::NodeProto& node, std::string where) : where_(std::move(where)) {
    for (const auto& a : node.attribute()) attrs_[a.name()] = &a;
  }
  bool has(const std::string& key) const { return attrs_.count(key) != 0; }
  int64_t i(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    const auto* a = find(key, fallback.has_value());
    return a ? a->i() : *fallback;
  }
  std::vector<int64_t> ints(const std::string& key, std::optional<std::vector<int64_t>> fallback = std::nullopt) const {
    const auto* a = find(key, fallback.has_value());
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : *fallback;
  }
  std::string s(const std::string& key, std::optional<std::string> fallback = std::nullopt) const {
    const auto* a = find(key, fallback.has_value());
    return a ? a->s() : *fallback;
  }
  DataType type(const std::string& key, std::optional<std::string> fallback = std::nullopt) const {
    const std::string name = s(key, fallback);
    const auto parsed = DataType::parse(name);
    check(parsed.has_value(), where_ + ": attribute '" + key + "' = '" + name + "' is not an integer FINN data type");
    return *parsed;
  }
  std::array<int64_t, 2> pair(const std::string& key,
                              std::optional<std::vector<int64_t>> fallback = std::nullopt) const {
    auto v = ints(key, fallback);
    check(v.size() == 1 || v.size() == 2, where_ + ": attribute '" + key + "' must have 1 or 2 entries");
    return {v.front(), v.back()};
  }
  const std::string& where() const { return where_; }

 private:
  const onnx::AttributeProto* find(const std::string& key, bool optional) const {
    auto it = attrs_.find(key);
    check(it != attrs_.end() || optional, where_ + ": required attribute '" + key + "' is missing");
    return it == attrs_.end() ? nullptr : it->second;
  }
  std::string where_;
  std::map<std::string, const onnx::AttributeProto*> attrs_;
};

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

RamStyle ram_style_of(const std::string& value, const std::string& where) {
  if (value == "auto") return RamStyle::kAuto;
  if (value == "block") return RamStyle::kBlock;
  if (value == "distributed") return RamStyle::kDistributed;
  if (value == "ultra") return RamStyle::kUltra;
  throw Error(where + ": ram_style '" + value + "' is not one of auto, block, distributed, ultra");
}

MemMode mem_mode_of(const std::string& value, const std::string& where) {
  if (value == "internal_embedded" || value == "const") return MemMode::kInternalEmbedded;
  if (value == "internal_decoupled" || value == "decoupled") return MemMode::kInternalDecoupled;
  if (value == "external") return MemMode::kExternal;
  throw Error(where + ": mem_mode '" + value + "' is not known");
}

ResType res_type_of(const std::string& value, const std::string& where) {
  if (value == "auto") return ResType::kAuto;
  if (value == "lut") return ResType::kLut;
  if (value == "dsp") return ResType::kDsp;
  throw Error(where + ": resType '" + value + "' is not one of auto, lut, dsp");
}

// FINN op type (any generation) -> op and backend; false for nodes the estimate skips.
bool classify(const std::string& op_type, const std::string& domain, HwOp& op, Backend& backend, bool& skip) {
  std::string base = op_type;
  backend = domain.size() > 4 && domain.substr(domain.size() - 4) == ".rtl" ? Backend::kRtl : Backend::kHls;
  for (const char* suffix : {"_hls", "_rtl", "_Batch"}) {
    const std::string s = suffix;
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      if (s == "_rtl") backend = Backend::kRtl;
      if (s == "_hls") backend = Backend::kHls;
      base = base.substr(0, base.size() - s.size());
    }
  }
  skip = false;
  static const std::set<std::string> skipped{"StreamingFIFO", "StreamingDataWidthConverter", "IODMA", "TLastMarker",
                                             "CheckSum"};
  if (skipped.count(base)) {
    skip = true;
    return true;
  }
  static const std::map<std::string, HwOp> ops{
      {"MVAU", HwOp::kMvau},
      {"MatrixVectorActivation", HwOp::kMvau},
      {"VVAU", HwOp::kVvau},
      {"VectorVectorActivation", HwOp::kVvau},
      {"Thresholding", HwOp::kThresholding},
      {"ConvolutionInputGenerator", HwOp::kSwg},
      {"FMPadding", HwOp::kFmPadding},
      {"StreamingMaxPool", HwOp::kStreamingMaxPool},
      {"Pool", HwOp::kPool},
      {"GlobalAccPool", HwOp::kGlobalAccPool},
      {"LabelSelect", HwOp::kLabelSelect},
      {"AddStreams", HwOp::kAddStreams},
      {"DuplicateStreams", HwOp::kDuplicateStreams},
      {"ChannelwiseOp", HwOp::kChannelwiseOp},
      {"DownSampler", HwOp::kDownSampler},
  };
  auto it = ops.find(base);
  if (it == ops.end()) return false;
  op = it->second;
  return true;
}

void read_mvau(HwLayer& l, const Attrs& a) {
  l.mw = a.i("MW");
  l.mh = a.i("MH");
  l.folding.pe = a.i("PE");
  l.folding.simd = a.i("SIMD");
  l.input_type = a.type("inputDataType");
  l.weight_type = a.type("weightDataType");
  l.output_type = a.type("outputDataType");
  l.acc_type = a.type("accDataType", "INT32");  // FINN's default before MinimizeAccumulatorWidth
  if (a.i("binaryXnorMode", 0) == 1) l.input_type = l.weight_type = DataType{1, true, true};
  l.thresholds = a.i("noActivation", 0) == 0;
  l.num_vectors = product(a.ints("numInputVectors", std::vector<int64_t>{1}));
  l.folding.mem_mode = mem_mode_of(a.s("mem_mode", "internal_decoupled"), a.where());
  l.folding.ram_style = ram_style_of(a.s("ram_style", "auto"), a.where());
  l.folding.ram_style_thresholds = ram_style_of(a.s("ram_style_thresholds", "auto"), a.where());
  l.folding.res_type = res_type_of(a.s("resType", "auto"), a.where());
  l.folding.runtime_writeable_weights = a.i("runtime_writeable_weights", 0) == 1;
}

void read_vvau(HwLayer& l, const Attrs& a) {
  l.channels = a.i("Channels");
  l.kernel = a.pair("Kernel");
  l.ofm = a.pair("Dim");
  l.num_vectors = l.ofm[0] * l.ofm[1];
  l.folding.pe = a.i("PE");
  l.folding.simd = a.i("SIMD", 1);
  l.input_type = a.type("inputDataType");
  l.weight_type = a.type("weightDataType");
  l.output_type = a.type("outputDataType");
  l.acc_type = a.type("accDataType", "INT32");
  l.thresholds = a.i("noActivation", 0) == 0;
  l.folding.mem_mode = mem_mode_of(a.s("mem_mode", "internal_decoupled"), a.where());
  l.folding.ram_style = ram_style_of(a.s("ram_style", "auto"), a.where());
  l.folding.res_type = res_type_of(a.s("resType", "auto"), a.where());
}

void read_layer(HwLayer& l, const Attrs& a) {
  switch (l.op) {
    case HwOp::kMvau: read_mvau(l, a); break;
    case HwOp::kVvau: read_vvau(l, a); break;
    case HwOp::kThresholding: {
      l.channels = a.i("NumChannels");
      l.folding.pe = a.i("PE");
      l.num_steps = a.i("numSteps", 1);
      l.input_type = a.type("inputDataType");
      l.output_type = a.type("outputDataType");
      if (a.has("weightDataType")) {
        const DataType t = a.type("weightDataType");
        l.threshold_range = std::make_pair(t.min(), t.max());
      }
      l.num_vectors = product(a.ints("numInputVectors", std::vector<int64_t>{1}));
      l.folding.ram_style = ram_style_of(a.s("ram_style", "distributed"), a.where());
      l.folding.depth_trigger_bram = a.i("depth_trigger_bram", 0);
      l.folding.depth_trigger_uram = a.i("depth_trigger_uram", 0);
      break;
    }
    case HwOp::kSwg:
      l.channels = a.i("IFMChannels");
      l.kernel = a.pair("ConvKernelDim");
      l.ifm = a.pair("IFMDim");
      l.ofm = a.pair("OFMDim");
      l.stride = a.pair("Stride", std::vector<int64_t>{1, 1});
      l.dilation = a.pair("Dilation", std::vector<int64_t>{1, 1});
      l.depthwise = a.i("depthwise", 0) == 1;
      l.folding.simd = a.i("SIMD");
      l.input_type = l.output_type = a.type("inputDataType");
      l.folding.ram_style = ram_style_of(a.s("ram_style", "distributed"), a.where());
      l.folding.parallel_window = a.i("parallel_window", 0) == 1;
      break;
    case HwOp::kFmPadding: {
      l.channels = a.i("NumChannels");
      l.ifm = a.pair("ImgDim");
      const auto pads = a.ints("Padding");
      check(pads.size() == 4, a.where() + ": attribute 'Padding' must have 4 entries");
      l.padding = {pads[0], pads[1], pads[2], pads[3]};
      l.ofm = {l.ifm[0] + pads[0] + pads[2], l.ifm[1] + pads[1] + pads[3]};
      l.folding.simd = a.i("SIMD", 1);
      l.input_type = l.output_type = a.type("inputDataType");
      break;
    }
    case HwOp::kStreamingMaxPool:
      l.channels = a.i("NumChannels");
      l.ifm = a.pair("ImgDim");
      l.kernel = a.pair("PoolDim");
      l.ofm = {l.kernel[0] > 0 ? l.ifm[0] / l.kernel[0] : 0, l.kernel[1] > 0 ? l.ifm[1] / l.kernel[1] : 0};
      l.folding.pe = a.i("PE", 1);
      l.input_type = l.output_type = a.type("dataType", "INT32");
      break;
    case HwOp::kPool:
      l.channels = a.i("Channels");
      l.kernel = a.pair("KernelSize");
      l.ofm = a.pair("OutImgDims");
      l.folding.pe = a.i("PE", 1);
      l.input_type = a.type("InputDataType");
      l.output_type = a.type("OutputDataType", l.input_type.name());
      break;
    case HwOp::kLabelSelect:
      l.channels = a.i("Labels");
      l.top_k = a.i("K", 1);
      l.folding.pe = a.i("PE", 1);
      l.input_type = a.type("inputDataType");
      break;
    case HwOp::kDownSampler:
      l.channels = a.i("NumChannels");
      l.ifm = a.pair("ImgDim");
      l.stride = a.pair("Stride");
      l.folding.simd = a.i("SIMD", 1);
      l.input_type = l.output_type = a.type("inputDataType");
      break;
    default:  // GlobalAccPool, AddStreams, DuplicateStreams, ChannelwiseOp
      l.channels = a.i("NumChannels");
      l.folding.pe = a.i("PE", 1);
      l.num_vectors = product(a.ints("numInputVectors", std::vector<int64_t>{1}));
      l.input_type = l.output_type = a.type("inputDataType");
      if (l.op == HwOp::kChannelwiseOp) l.folding.ram_style = ram_style_of(a.s("ram_style", "distributed"), a.where());
      break;
  }
}

// Dimensions a formula divides by or multiplies with must be positive.
void check_geometry(const HwLayer& l, const std::string& where) {
  auto positive = [&](int64_t v, const std::string& what) {
    check(v >= 1, where + ": " + what + " must be positive, got " + std::to_string(v));
  };
  if (l.op == HwOp::kMvau) {
    positive(l.mw, "MW");
    positive(l.mh, "MH");
  } else {
    positive(l.channels, "the channel count");
  }
  for (int d = 0; d < 2; ++d) {
    positive(l.kernel[static_cast<size_t>(d)], "the kernel size");
    positive(l.ifm[static_cast<size_t>(d)], "the input size");
    positive(l.ofm[static_cast<size_t>(d)], "the output size");
    positive(l.stride[static_cast<size_t>(d)], "the stride");
    positive(l.dilation[static_cast<size_t>(d)], "the dilation");
  }
  positive(l.num_vectors, "numInputVectors");
}

}  // namespace

bool is_finn_hw_model(const std::string& path) {
  const onnx::ModelProto model = read_proto(path);
  for (const auto& node : model.graph().node()) {
    if (node.domain().rfind(kHwDomain, 0) == 0) return true;
  }
  return false;
}

HwGraph read_finn_hw_model(const std::string& path) {
  const onnx::ModelProto model = read_proto(path);
  const auto& graph = model.graph();
  HwGraph hw;
  hw.source = path;
  hw.node_layer.assign(static_cast<size_t>(graph.node_size()), -1);
  std::map<std::string, int> producer;  // tensor name -> layer
  std::map<std::string, int> counters;
  std::set<std::string> names;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    if (node.domain().rfind(kHwDomain, 0) != 0) continue;  // stays in software
    const std::string label = node.name().empty() ? node.op_type() + " #" + std::to_string(i) : node.name();
    const std::string where = path + ": node '" + label + "' (" + node.op_type() + ")";
    HwLayer layer;
    bool skip = false;
    check(classify(node.op_type(), node.domain(), layer.op, layer.backend, skip),
          where + ": this FINN hardware op is not known to the cost model");
    if (skip) continue;  // FIFOs, width converters, DMAs: not in FINN's estimate report
    read_layer(layer, Attrs(node, where));
    check_geometry(layer, where);
    for (const auto& in : node.input()) {
      auto it = producer.find(in);
      if (it != producer.end()) {
        layer.inputs.push_back(it->second);
      } else if (std::any_of(graph.input().begin(), graph.input().end(),
                             [&](const onnx::ValueInfoProto& v) { return v.name() == in; })) {
        layer.inputs.push_back(-1);
      }
    }
    const std::string type = hw_op_type(layer.op, layer.backend);
    const int n = counters[type]++;
    layer.name = node.name().empty() ? type + "_" + std::to_string(n) : node.name();
    check(names.insert(layer.name).second, where + ": layer name '" + layer.name + "' is used twice");
    layer.ir_nodes = {i};
    hw.layers.push_back(std::move(layer));
    const int index = static_cast<int>(hw.layers.size()) - 1;
    hw.node_layer[static_cast<size_t>(i)] = index;
    for (const auto& out : node.output()) producer[out] = index;
  }
  for (const auto& out : graph.output()) {
    auto it = producer.find(out.name());
    if (it != producer.end()) hw.layers[static_cast<size_t>(it->second)].feeds_graph_output = true;
  }
  return hw;
}

}  // namespace dnnsplit::cost
