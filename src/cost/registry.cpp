// The registry of hardware layer types: one explicit table (no self-registration) mapping each
// op to its FINN name, folding keys, SetFolding rule and formulas.
#include <map>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

namespace detail {

const std::vector<OpRules>& all_op_rules() {
  static const std::vector<OpRules> rules = {
      {HwOp::kMvau,
       "MVAU",
       {"PE", "SIMD", "mem_mode", "ram_style", "ram_style_thresholds", "resType", "runtime_writeable_weights"},
       FoldRule::kMvau,
       validate_mvau,
       estimate_mvau},
      {HwOp::kVvau,
       "VVAU",
       {"PE", "SIMD", "mem_mode", "ram_style", "resType", "runtime_writeable_weights"},
       FoldRule::kDepthwise,
       validate_vvau,
       estimate_vvau},
      {HwOp::kThresholding,
       "Thresholding",
       {"PE", "ram_style", "mem_mode", "runtime_writeable_weights", "depth_trigger_bram", "depth_trigger_uram",
        "deep_pipeline", "uniform_thres"},
       FoldRule::kPe,
       validate_thresholding,
       estimate_thresholding},
      {HwOp::kSwg,
       "ConvolutionInputGenerator",
       {"SIMD", "ram_style", "parallel_window"},
       FoldRule::kSimdSwg,
       validate_swg,
       estimate_swg},
      {HwOp::kFmPadding, "FMPadding", {"SIMD"}, FoldRule::kFmPaddingRtl, validate_fmpadding, estimate_fmpadding},
      {HwOp::kStreamingMaxPool,
       "StreamingMaxPool",
       {"PE"},
       FoldRule::kNone,
       validate_channels_pe,
       estimate_streaming_maxpool},
      {HwOp::kPool, "Pool", {"PE"}, FoldRule::kDepthwise, validate_pool, estimate_pool},
      {HwOp::kGlobalAccPool, "GlobalAccPool", {"PE"}, FoldRule::kPe, validate_channels_pe, estimate_global_acc_pool},
      {HwOp::kLabelSelect, "LabelSelect", {"PE"}, FoldRule::kLabels, validate_label_select, estimate_label_select},
      {HwOp::kAddStreams, "AddStreams", {"PE"}, FoldRule::kPe, validate_channels_pe, estimate_add_streams},
      {HwOp::kDuplicateStreams,
       "DuplicateStreams",
       {"PE"},
       FoldRule::kPe,
       validate_channels_pe,
       estimate_duplicate_streams},
      {HwOp::kChannelwiseOp,
       "ChannelwiseOp",
       {"PE", "ram_style"},
       FoldRule::kPe,
       validate_channels_pe,
       estimate_channelwise},
      {HwOp::kDownSampler, "DownSampler", {"SIMD"}, FoldRule::kSimd, validate_downsampler, estimate_downsampler},
  };
  return rules;
}

const OpRules& op_rules(HwOp op) {
  for (const auto& r : all_op_rules()) {
    if (r.op == op) return r;
  }
  throw Error("internal: no rules for hardware op " + std::to_string(static_cast<int>(op)));
}

void check_divides(const HwLayer& layer, const char* what, int64_t value, const char* dim_name, int64_t dim) {
  // if/throw: auto folding calls this for every candidate, the message is built only on failure
  if (value < 1) throw Error(layer.name + ": " + what + " must be at least 1, got " + std::to_string(value));
  if (dim % value != 0) {
    throw Error(layer.name + ": " + what + " " + std::to_string(value) + " does not divide " + dim_name + " " +
                std::to_string(dim));
  }
}

}  // namespace detail

void assign_finn_names(HwGraph& hw) {
  std::map<std::string, int> counters;
  for (auto& layer : hw.layers) {
    const std::string type = hw_op_type(layer.op, layer.backend);
    layer.name = type + "_" + std::to_string(counters[type]++);
  }
}

std::string hw_op_name(HwOp op) {
  return detail::op_rules(op).name;
}

std::string hw_op_type(HwOp op, Backend backend) {
  return hw_op_name(op) + (backend == Backend::kHls ? "_hls" : "_rtl");
}

std::string ram_style_name(RamStyle style) {
  switch (style) {
    case RamStyle::kAuto: return "auto";
    case RamStyle::kBlock: return "block";
    case RamStyle::kDistributed: return "distributed";
    case RamStyle::kUltra: return "ultra";
  }
  return "?";
}

std::string mem_mode_name(MemMode mode) {
  switch (mode) {
    case MemMode::kInternalEmbedded: return "internal_embedded";
    case MemMode::kInternalDecoupled: return "internal_decoupled";
    case MemMode::kExternal: return "external";
  }
  return "?";
}

std::string res_type_name(ResType type) {
  switch (type) {
    case ResType::kAuto: return "auto";
    case ResType::kLut: return "lut";
    case ResType::kDsp: return "dsp";
  }
  return "?";
}

int HwGraph::find_layer(const std::string& layer_name) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].name == layer_name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace dnnsplit::cost
