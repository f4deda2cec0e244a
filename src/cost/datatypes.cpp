// FINN integer data types and the bit-width minimisation FINN runs before estimating
// (step_minimize_bit_width: weights, accumulators, threshold memories).
#include <algorithm>
#include <cstdlib>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

int64_t DataType::min() const {
  if (bipolar) return -1;
  if (!is_signed) return 0;
  return -(int64_t{1} << (std::min(bits, 63) - 1));
}

int64_t DataType::max() const {
  if (bipolar) return 1;
  if (!is_signed) return bits >= 63 ? INT64_MAX : (int64_t{1} << bits) - 1;
  return (int64_t{1} << (std::min(bits, 63) - 1)) - 1;
}

std::string DataType::name() const {
  if (bipolar) return "BIPOLAR";
  if (bits == 1 && !is_signed) return "BINARY";
  return (is_signed ? "INT" : "UINT") + std::to_string(bits);
}

DataType DataType::from_quant(const ir::QuantType& quant) {
  if (quant.bipolar) return {1, true, true};
  return {quant.bits, quant.is_signed, false};
}

std::optional<DataType> DataType::parse(const std::string& name) {
  if (name == "BIPOLAR") return DataType{1, true, true};
  if (name == "BINARY") return DataType{1, false, false};
  if (name == "TERNARY") return DataType{2, true, false};
  const bool is_unsigned = name.rfind("UINT", 0) == 0;
  const bool is_int = name.rfind("INT", 0) == 0;
  if (!is_unsigned && !is_int) return std::nullopt;
  const std::string digits = name.substr(is_unsigned ? 4 : 3);
  if (digits.empty() || digits.size() > 2 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int bits = std::atoi(digits.c_str());
  if (bits < 1 || bits > 64) return std::nullopt;
  return DataType{bits, !is_unsigned, false};
}

DataType DataType::smallest_for(int64_t value) {
  // qonnx get_accumulator_dt_cands order: BINARY, UINT1..64, BIPOLAR, TERNARY, INT1..64.
  if (value == 0 || value == 1) return {1, false, false};
  if (value > 1) return of_uint(detail::bits_for(value + 1));
  if (value == -1) return {1, true, true};
  // INTk holds value when -2^(k-1) <= value.
  return of_int(detail::bits_for(-value) + 1);
}

DataType DataType::smallest_for_range(int64_t lo, int64_t hi) {
  if (lo < 0) return std::abs(lo) > hi ? smallest_for(lo) : smallest_for(-hi - 1);
  return smallest_for(hi);
}

namespace detail {

namespace {

bool has_weights(const HwLayer& layer) {
  return layer.op == HwOp::kMvau || layer.op == HwOp::kVvau;
}

DataType type_for_acc_range(int64_t acc_min, int64_t acc_max) {
  // MVAU.minimize_accumulator_width
  if (acc_min >= 0) return DataType::of_uint(std::max(1, bits_for(acc_max + 1)));
  const int64_t m = std::max(-acc_min, acc_max + 1);
  return DataType::of_int(bits_for(m) + 1);
}

}  // namespace

DataType effective_weight_type(const HwLayer& layer) {
  if (!has_weights(layer) || !layer.weights || layer.folding.runtime_writeable_weights) return layer.weight_type;
  if (layer.weight_type.bipolar) return layer.weight_type;  // xnor mode keeps 1-bit weights
  const WeightStats& w = *layer.weights;
  // minimize_weight_bit_width
  if (w.min < 0) return std::abs(w.min) > w.max ? DataType::smallest_for(w.min) : DataType::smallest_for(-w.max - 1);
  return DataType::smallest_for(w.max);
}

DataType accumulator_type(const HwLayer& layer) {
  if (layer.acc_type) return *layer.acc_type;
  if (!has_weights(layer)) return layer.input_type;
  const DataType& idt = layer.input_type;
  const int64_t max_input = std::max(std::abs(idt.min()), std::abs(idt.max()));
  const int64_t fan_in = layer.op == HwOp::kMvau ? layer.mw : layer.kernel[0] * layer.kernel[1];
  int64_t acc_min = 0;
  int64_t acc_max = 0;
  if (layer.weights && !layer.folding.runtime_writeable_weights) {
    // qonnx calculate_matvec_accumulator_range: symmetric bound from the largest |w| column sum.
    acc_max = max_input * layer.weights->max_abs_col_sum;
    acc_min = (layer.weights->min < 0 || idt.is_signed) ? -acc_max : 0;
  } else {
    // Runtime-writeable (or unknown) weights: FINN's worst case over the declared weight type.
    const DataType& wdt = layer.weight_type;
    const int64_t lower_max = max_input * std::abs(wdt.min()) * fan_in;
    const int64_t lower_min = (wdt.min() < 0 || idt.is_signed) ? -lower_max : 0;
    const int64_t upper_max = max_input * std::abs(wdt.max()) * fan_in;
    const int64_t upper_min = (wdt.max() < 0 || idt.is_signed) ? -upper_max : 0;
    acc_min = std::min(lower_min, upper_min);
    acc_max = upper_max;  // FINN takes max(max(upper), max(upper)), i.e. ignores lower here
  }
  DataType acc = type_for_acc_range(acc_min, acc_max);
  if (!layer.thresholds && layer.feeds_graph_output) {
    // The last node's output (= accumulator) is rounded up to whole bytes.
    acc.bits = static_cast<int>(ceil_div(acc.bits, 8) * 8);
  }
  return acc;
}

DataType threshold_type(const HwLayer& layer) {
  const DataType& idt = layer.input_type;
  int64_t lo = idt.min();
  int64_t hi = idt.max();
  if (layer.threshold_range) {
    lo = std::min(lo, layer.threshold_range->first);
    hi = std::max(hi, layer.threshold_range->second);
  }
  return DataType::smallest_for_range(lo, hi);
}

}  // namespace detail
}  // namespace dnnsplit::cost
