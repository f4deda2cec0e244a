// The plan compiler's linear nodes (Conv, MatMul, Gemm with their streamlined chains) and the
// lookup tables that replace preprocessing chains on integer graph inputs.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "compiler.h"
#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

namespace {

bool is_graph_output(const ir::Graph& graph, int id) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end();
}

std::string chain_name(const ir::Graph& graph, const ir::Node& node, const std::vector<int>& chain) {
  std::string name = node.name;
  for (int i : chain) name += "+" + graph.nodes[static_cast<size_t>(i)].name;
  return name;
}

// Padding of one spatial axis for auto_pad, as ONNX defines it.
bool conv_axis(const std::string& auto_pad, int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_begin,
               int64_t pad_end, int64_t& out, int64_t& begin, bool& padded) {
  const int64_t span = (k - 1) * dilation + 1;
  if (auto_pad == "NOTSET") {
    begin = pad_begin;
    out = (in + pad_begin + pad_end - span) / stride + 1;
    padded = padded || pad_begin > 0 || pad_end > 0;
  } else if (auto_pad == "VALID") {
    begin = 0;
    out = (in - span) / stride + 1;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + span - in);
    begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    padded = padded || total > 0;
  } else {
    return false;
  }
  return out >= 1;
}

}  // namespace

void Compiler::finish_chain(const Chain& chain, int slot, const Requant& rq, int64_t macs) {
  ValueRef v;
  v.kind = ValueRef::kCodes;
  v.slot = slot;
  v.shape = *act_shape(chain.end_tensor);
  v.map = chain.out;
  v.values = rq.values;
  v.bound = max_abs(v.values);
  values_[static_cast<size_t>(chain.end_tensor)] = std::move(v);
  for (int i : chain.nodes) consumed_[static_cast<size_t>(i)] = true;
  fast_macs_ += macs;
}

Compiler::FloatRequant Compiler::float_requant(const LinearDesc& d, const Chain& chain, size_t out_rank, const Tensor& w,
                                               double in_bound, const std::string& name) const {
  const auto ms = static_cast<size_t>(d.m);
  const auto ks = static_cast<size_t>(d.k);
  FloatRequant f;
  ChainEvaluator ev(graph_, chain, d.m, out_rank, constant_fn(), evaluate_);
  PositionRange keys;
  for (size_t m = 0; m < ms; ++m) {
    double bound = std::fabs(d.bias[m]);
    for (size_t k = 0; k < ks; ++k) bound += std::fabs(static_cast<double>(w.f32[static_cast<size_t>(d.widx[m * ks + k])])) * in_bound;
    bound = std::isfinite(bound) ? std::min<double>(FLT_MAX, bound * (1.0 + 1e-6) + 1e-30) : FLT_MAX;
    keys.lo.push_back(float_key(-static_cast<float>(bound)));
    keys.hi.push_back(float_key(static_cast<float>(bound)));
  }
  f.dir = chain_directions(ev, keys, [](int64_t, int64_t key) { return key_float(key); });
  f.rq = derive_requant(ev, chain.out, keys,
                        [&](int64_t m, int64_t key) {
                          const float v = key_float(key);
                          return f.dir[static_cast<size_t>(m)] < 0 ? -v : v;
                        },
                        name);
  f.thresholds.resize(f.rq.thresholds.size());
  for (size_t i = 0; i < f.thresholds.size(); ++i) {
    const size_t m = i / static_cast<size_t>(f.rq.count);
    f.thresholds[i] = f.rq.thresholds[i] > keys.hi[m] ? std::numeric_limits<float>::infinity() : key_float(f.rq.thresholds[i]);
  }
  return f;
}

bool Compiler::try_linear(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  const std::string& op = node.op_type;
  if (!node.domain.empty() || (op != "Conv" && op != "MatMul" && op != "Gemm")) return false;
  if (node.inputs.size() < 2 || node.inputs[0] < 0 || node.inputs[1] < 0 || node.outputs.empty() || node.outputs[0] < 0) {
    return false;
  }
  const int data = node.inputs[0];
  const int out = node.outputs[0];
  const Tensor* w = constant(node.inputs[1]);
  if (w == nullptr || w->type != ElemType::kFloat) return false;
  const bool has_extra = node.inputs.size() > 2 && node.inputs[2] >= 0;
  const Tensor* extra = has_extra ? constant(node.inputs[2]) : nullptr;
  if (has_extra && (extra == nullptr || extra->type != ElemType::kFloat)) return false;
  const auto out_shape = act_shape(out);
  const ValueRef& in_value = values_[static_cast<size_t>(data)];
  if (!out_shape || in_value.kind == ValueRef::kNone) return false;

  // ---- shapes and the weight's kernel order ----
  LinearDesc d;
  if (op == "Conv") {
    const auto in_shape = act_shape(data);
    if (!in_shape || in_shape->logical.size() != 4 || w->shape.size() != 4 || in_value.shape.flat) return false;
    d.conv = true;
    ConvGeometry& g = d.g;
    g.in_h = in_shape->h;
    g.in_w = in_shape->w;
    g.in_c = in_shape->c;
    g.out_c = w->shape[0];
    g.kernel_h = w->shape[2];
    g.kernel_w = w->shape[3];
    const int64_t group = node.attr_int_or("group", 1);
    if (node.attr_ints_or("kernel_shape", {g.kernel_h, g.kernel_w}) != std::vector<int64_t>{g.kernel_h, g.kernel_w}) return false;
    const auto strides = node.attr_ints_or("strides", {1, 1});
    const auto dilations = node.attr_ints_or("dilations", {1, 1});
    const auto pads = node.attr_ints_or("pads", {0, 0, 0, 0});
    if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) return false;
    g.stride_h = strides[0];
    g.stride_w = strides[1];
    g.dilation_h = dilations[0];
    g.dilation_w = dilations[1];
    const std::string auto_pad = node.attr_string_or("auto_pad", "NOTSET");
    if (!conv_axis(auto_pad, g.in_h, g.kernel_h, g.stride_h, g.dilation_h, pads[0], pads[2], g.out_h, g.pad_top, d.padded) ||
        !conv_axis(auto_pad, g.in_w, g.kernel_w, g.stride_w, g.dilation_w, pads[1], pads[3], g.out_w, g.pad_left, d.padded)) {
      return false;
    }
    if (out_shape->logical.size() != 4 || out_shape->h != g.out_h || out_shape->w != g.out_w || out_shape->c != g.out_c) {
      return false;
    }
    d.m = g.out_c;
    const int64_t taps = g.taps();
    if (group == 1 && w->shape[1] == g.in_c) {
      d.k = taps * g.in_c;
      d.widx.resize(static_cast<size_t>(d.m * d.k));
      for (int64_t m = 0; m < d.m; ++m) {
        for (int64_t c = 0; c < g.in_c; ++c) {
          for (int64_t tap = 0; tap < taps; ++tap) {
            d.widx[static_cast<size_t>(m * d.k + tap * g.in_c + c)] = (m * g.in_c + c) * taps + tap;
          }
        }
      }
    } else if (group == g.in_c && g.out_c == g.in_c && w->shape[1] == 1) {
      d.depthwise = true;
      d.k = taps;
      d.widx.resize(static_cast<size_t>(d.m * d.k));
      for (int64_t i = 0; i < d.m * d.k; ++i) d.widx[static_cast<size_t>(i)] = i;
    } else {
      return false;
    }
    if (extra != nullptr) {
      if (extra->numel() != d.m) return false;
      d.bias = extra->as_doubles();
      d.has_bias = true;
    }
  } else {
    // MatMul / Gemm on one feature vector per image.
    const auto data_shape = act_shape(data);
    const ActShape s = in_value.kind == ValueRef::kCodes ? in_value.shape : data_shape.value_or(ActShape{});
    if (w->shape.size() != 2 || s.logical.size() != 2) return false;
    const bool trans_b = op == "Gemm" && node.attr_int_or("transB", 0) != 0;
    if (op == "Gemm" && node.attr_int_or("transA", 0) != 0) return false;
    d.gemm = op == "Gemm";
    d.k = trans_b ? w->shape[1] : w->shape[0];
    d.m = trans_b ? w->shape[0] : w->shape[1];
    d.weight_axis = trans_b ? 0 : 1;
    if (s.numel() != d.k || out_shape->logical.size() != 2 || out_shape->c != d.m) return false;
    d.g.in_c = d.k;
    d.g.out_c = d.m;
    d.widx.resize(static_cast<size_t>(d.m * d.k));
    const int64_t plane = s.h * s.w;
    for (int64_t p = 0; p < d.k; ++p) {
      // Physical (NHWC) position p holds the graph's feature f (NCHW flattening when flat).
      const int64_t f = s.flat ? (p % s.c) * plane + p / s.c : p;
      for (int64_t n = 0; n < d.m; ++n) d.widx[static_cast<size_t>(n * d.k + p)] = trans_b ? n * d.k + f : f * d.m + n;
    }
    if (d.gemm) {
      d.alpha = node.attr_float_or("alpha", 1.0F);
      if (extra != nullptr) {
        const double beta = node.attr_float_or("beta", 1.0F);
        const bool per_channel = extra->numel() == d.m && (extra->shape.size() == 1 || (extra->shape.size() == 2 && extra->shape[0] == 1));
        if (extra->numel() != 1 && !per_channel) return false;
        d.bias.resize(static_cast<size_t>(d.m));
        for (int64_t n = 0; n < d.m; ++n) d.bias[static_cast<size_t>(n)] = beta * extra->at(extra->numel() == 1 ? 0 : n);
        d.has_bias = true;
      }
    } else if (extra != nullptr) {
      return false;
    }
  }
  if (d.bias.empty()) d.bias.assign(static_cast<size_t>(d.m), 0.0);
  const auto ms = static_cast<size_t>(d.m);
  const auto ks = static_cast<size_t>(d.k);
  const int64_t pixels = d.g.out_h * d.g.out_w;
  const int64_t macs = pixels * d.m * d.k;

  // ---- the reference's choice of path (engine Session: exact integer path) ----
  const auto& dinfo = graph_.tensor(data);
  const auto& winfo = graph_.tensor(node.inputs[1]);
  const bool exact = session_exact(node);

  // A depthwise result has no float-output kernel: its chain may end at a graph output.
  const Chain chain = find_chain(graph_, out, d.m, constant_fn(), d.depthwise);
  const size_t out_rank = graph_.tensor(out).shape.size();
  std::string name = chain_name(graph_, node, chain.nodes);
  auto finish_codes = [&](int slot, const Requant& rq) { finish_chain(chain, slot, rq, macs); };

  if (exact) {
    const ValueRef* in = codes_of(data);
    if (in == nullptr) return false;
    if (d.conv && (in->shape.h != d.g.in_h || in->shape.w != d.g.in_w || in->shape.c != d.g.in_c || in->shape.flat)) return false;
    const CodeMap& im = in->map;
    if (d.padded && im.zero_code() < 0) return false;
    const auto& wq = *winfo.quant;
    // Weight codes on the announced grid (the Session refuses the model otherwise).
    std::vector<int64_t> wc(ms * ks);
    std::vector<double> scale(ms);
    for (int64_t m = 0; m < d.m; ++m) {
      const double sw = wq.scale.size() == 1 ? wq.scale[0] : wq.scale[static_cast<size_t>(m)];
      scale[static_cast<size_t>(m)] = static_cast<double>(dinfo.quant->scale[0]) * sw;
      for (int64_t k = 0; k < d.k; ++k) {
        const float wv = w->f32[static_cast<size_t>(d.widx[static_cast<size_t>(m * d.k + k)])];
        const double q = std::nearbyint(static_cast<double>(wv) / sw);
        if (q < static_cast<double>(wq.min_int()) || q > static_cast<double>(wq.max_int()) || static_cast<float>(q * sw) != wv) {
          return false;
        }
        wc[static_cast<size_t>(m * d.k + k)] = static_cast<int64_t>(q);
      }
    }
    auto y_of_sum = [&](int64_t m, int64_t sum) {
      const double scaled = static_cast<double>(sum) * scale[static_cast<size_t>(m)];
      const double y = d.gemm ? d.alpha * scaled + d.bias[static_cast<size_t>(m)] : scaled + d.bias[static_cast<size_t>(m)];
      return static_cast<float>(y);
    };
    std::vector<int64_t> wsum(ms, 0);
    for (size_t m = 0; m < ms; ++m) {
      for (size_t k = 0; k < ks; ++k) wsum[m] += wc[m * ks + k];
    }
    const int64_t u_max = im.u_max();
    const int64_t q_lo = im.b;
    const int64_t q_hi = im.a * u_max + im.b;

    // Bipolar codes times +-1 weights: XOR-popcount on bits, about 3x the int8 kernel on this
    // machine (kernels_bench: cnv_w1a1_conv1); needs no zero padding, which bits cannot hold.
    const bool binary = im.a == 2 && im.b == -1 && !d.depthwise && !d.padded &&
                        std::all_of(wc.begin(), wc.end(), [](int64_t v) { return v == 1 || v == -1; });
    std::vector<int8_t> dir(ms, 1);
    Requant rq;
    std::vector<int32_t> thresholds;
    PositionRange accs;  // the kernel's accumulator range per channel
    if (chain.end_tensor >= 0) {
      if (!d.conv && out_rank != 2) return false;
      ChainEvaluator ev(graph_, chain, d.m, out_rank, constant_fn(), evaluate_);
      dir = chain_directions(ev, sum_range(wc, d.m, d.k, q_lo, q_hi), y_of_sum);
      if (binary) {
        // bgemm's accumulator: acc = sum q * w' with w' = dir * w, so sum = dir * acc.
        accs.lo.assign(ms, -d.k);
        accs.hi.assign(ms, d.k);
        rq = derive_requant(ev, chain.out, accs,
                            [&](int64_t m, int64_t acc) { return y_of_sum(m, dir[static_cast<size_t>(m)] * acc); }, name);
      } else {
        // The int kernels' accumulator: acc = sum u * w', so sum = dir * a * acc + b * wsum.
        const auto range = acc_range(wc, dir, d.m, d.k, u_max);
        if (!range) return false;
        accs = *range;
        rq = derive_requant(ev, chain.out, accs,
                            [&](int64_t m, int64_t acc) {
                              return y_of_sum(m, dir[static_cast<size_t>(m)] * im.a * acc + im.b * wsum[static_cast<size_t>(m)]);
                            },
                            name);
      }
      thresholds.assign(rq.thresholds.begin(), rq.thresholds.end());
    } else if (d.depthwise) {
      return false;  // a depthwise result without a quantizer stays with the reference
    }

    if (binary) {
      const BGemmKernel& kernel = bgemm_best(options_.simd);
      BGemmSpec spec;
      spec.kernel = &kernel;
      spec.g = d.g;
      const int64_t c_in = d.conv ? d.g.in_c : d.k;
      spec.g.in_c = c_in;
      spec.words_per_pixel = (c_in + 63) / 64;
      spec.k_words = d.g.taps() * spec.words_per_pixel;
      spec.k_bits = static_cast<int32_t>(d.k);
      // Weight bits in the rows' order: tap, then channel, each pixel padded to whole words.
      std::vector<uint64_t> wbits(ms * static_cast<size_t>(spec.k_words), 0);
      for (size_t m = 0; m < ms; ++m) {
        for (int64_t k = 0; k < d.k; ++k) {
          const int64_t tap = k / c_in;
          const int64_t c = k % c_in;
          const int64_t bit = tap * spec.words_per_pixel * 64 + c;
          if (dir[m] * wc[m * ks + static_cast<size_t>(k)] > 0) {
            wbits[m * static_cast<size_t>(spec.k_words) + static_cast<size_t>(bit / 64)] |= uint64_t{1} << (bit % 64);
          }
        }
      }
      spec.packed_w = pack_bgemm_weights(wbits.data(), d.m, spec.k_words, kernel.nr);
      const int64_t pixels_in = d.g.in_h * d.g.in_w;
      layout_.bits = std::max(layout_.bits, static_cast<size_t>(pixels_in * spec.words_per_pixel));
      layout_.scratch = std::max(layout_.scratch, static_cast<size_t>(pixels * spec.k_words * 8) + kReadSlack);
      if (chain.end_tensor >= 0) {
        spec.packed_t = pack_thresholds(thresholds.data(), d.m, rq.count, kernel.nr);
        spec.threshold_count = rq.count;
        const int slot = new_codes_slot(pixels * d.m);
        add_step(make_bgemm_step({name, "bgemm", kernel.name, macs}, std::move(spec), in->slot, slot, false));
        finish_codes(slot, rq);
        return true;
      }
      spec.scale = scale;
      spec.bias = d.bias;
      spec.alpha = d.alpha;
      spec.gemm_alpha = d.gemm;
      spec.out_logical = out_shape->logical;
      layout_.acc = std::max(layout_.acc, static_cast<size_t>(pixels * d.m));
      const int slot = new_tensor_slot();
      add_step(make_bgemm_step({node.name, "bgemm", kernel.name, macs}, std::move(spec), in->slot, slot, true));
      values_[static_cast<size_t>(out)].kind = ValueRef::kTensor;
      values_[static_cast<size_t>(out)].slot = slot;
      tensor_slot_[static_cast<size_t>(out)] = slot;
      fast_macs_ += macs;
      return true;
    }

    if (d.depthwise) {
      DwSpec spec = make_dw_spec(d, wc, dir, thresholds, rq.count, static_cast<int>(u_max),
                                 static_cast<uint8_t>(std::max(0, im.zero_code())), options_.simd);
      const DwKernel& kernel = *spec.kernel;
      const int slot = new_codes_slot(pixels * d.m);
      add_step(make_dwconv_step({name, "dwconv", kernel.name, macs}, std::move(spec), in->slot, slot));
      finish_codes(slot, rq);
      return true;
    }

    // qgemm: int8 weights; the SIMD kernel needs its int16 bound, else the generic one runs.
    std::vector<int8_t> w8(ms * ks);
    int w_max = 0;
    for (size_t m = 0; m < ms; ++m) {
      for (size_t k = 0; k < ks; ++k) {
        const int64_t v = dir[m] * wc[m * ks + k];
        if (v < -128 || v > 127) return false;
        w8[m * ks + k] = static_cast<int8_t>(v);
        w_max = std::max<int>(w_max, static_cast<int>(std::llabs(v)));
      }
    }
    const QGemmKernel* kernel = &qgemm_best(options_.simd);
    int64_t kp = round_up(d.k, kernel->kr);
    int64_t chunk = qgemm_k_chunk(*kernel, static_cast<int>(u_max), w_max, kp);
    if (chunk == 0) {
      kernel = &qgemm_kernels().front();
      kp = round_up(d.k, kernel->kr);
      chunk = qgemm_k_chunk(*kernel, static_cast<int>(u_max), w_max, kp);
    }
    QGemmSpec spec;
    spec.kernel = kernel;
    spec.g = d.g;
    spec.direct = d.g.kernel_h == 1 && d.g.kernel_w == 1 && d.g.stride_h == 1 && d.g.stride_w == 1 && !d.padded &&
                  d.k == kp;
    spec.pad_code = static_cast<uint8_t>(std::max(0, im.zero_code()));
    spec.k_padded = kp;
    spec.k_chunk = chunk;
    spec.packed_w = pack_qgemm_weights(w8.data(), d.m, d.k, kernel->nr, kernel->kr);
    // Implicit rows are per output row: short rows that leave a narrow tile are better copied.
    spec.implicit = !spec.direct && d.conv && !d.padded && d.g.dilation_w == 1 &&
                    (d.g.kernel_w * d.g.in_c) % kernel->kr == 0 && d.k == kp &&
                    (d.g.out_w % kernel->mr == 0 || d.g.out_w >= 6 * kernel->mr);
    for (int64_t ky = 0; spec.implicit && ky < d.g.kernel_h; ++ky) {
      spec.seg_offset.push_back(ky * d.g.dilation_h * d.g.in_w * d.g.in_c);
    }
    spec.rows_per_block = std::max<int64_t>(kernel->mr, (32768 / kp) / kernel->mr * kernel->mr);
    if (!spec.direct && !spec.implicit) layout_.scratch = std::max(layout_.scratch, static_cast<size_t>(spec.rows_per_block * kp) + kReadSlack);
    if (chain.end_tensor >= 0) {
      spec.packed_t = pack_thresholds(thresholds.data(), d.m, rq.count, kernel->nr);
      spec.threshold_count = rq.count;
      // Sums and thresholds within int16 (MobileNet's early pointwise layers): int16 compares.
      auto in16 = [](int64_t v) { return v >= INT16_MIN && v < INT16_MAX; };
      bool fits16 = kernel->nr == 16 && std::all_of(thresholds.begin(), thresholds.end(), [&](int32_t t) { return in16(t); });
      for (size_t m = 0; fits16 && m < ms; ++m) fits16 = in16(accs.lo[m]) && in16(accs.hi[m]);
      if (fits16) spec.packed_t16 = pack_thresholds_i16(thresholds.data(), d.m, rq.count);
      if (auto lines = fit_threshold_lines(thresholds.data(), d.m, rq.count, round_up(d.m, 16)))
        spec.lines = std::move(*lines);
      const int slot = new_codes_slot(pixels * d.m);
      add_step(make_qgemm_step({name, "qgemm", kernel->name, macs}, std::move(spec), in->slot, slot, false));
      finish_codes(slot, rq);
      return true;
    }
    // No quantizer after it: the reference's float formula, into a tensor for what follows.
    spec.a = im.a;
    spec.b = im.b;
    spec.wsum = wsum;
    spec.scale = scale;
    spec.bias = d.bias;
    spec.alpha = d.alpha;
    spec.gemm_alpha = d.gemm;
    spec.out_logical = out_shape->logical;
    layout_.acc = std::max(layout_.acc, static_cast<size_t>(pixels * d.m));
    const int slot = new_tensor_slot();
    add_step(make_qgemm_step({node.name, "qgemm", kernel->name, macs}, std::move(spec), in->slot, slot, true));
    values_[static_cast<size_t>(out)].kind = ValueRef::kTensor;
    values_[static_cast<size_t>(out)].slot = slot;
    tensor_slot_[static_cast<size_t>(out)] = slot;
    fast_macs_ += macs;
    return true;
  }

  // ---- float path: the reference's double sums, Conv only ----
  if (!d.conv) return false;
  if (d.depthwise && chain.end_tensor >= 0 && try_float_depthwise(node, d, chain, name, macs)) return true;
  const auto in = floats_of(data);
  if (!in) return false;
  const FconvKernel& kernel = fconv_best(d.depthwise, options_.simd);
  const auto nr = static_cast<int64_t>(kernel.nr);
  std::vector<int8_t> dir(ms, 1);
  Requant rq;
  std::vector<float> thresholds;
  if (chain.end_tensor >= 0) {
    FloatRequant f = float_requant(d, chain, out_rank, *w, in->second, name);
    dir = std::move(f.dir);
    rq = std::move(f.rq);
    thresholds = std::move(f.thresholds);
  }
  FconvSpec spec;
  spec.kernel = &kernel;
  spec.g = d.g;
  spec.c_padded = round_up(d.m, nr);
  const int64_t taps = d.g.taps();
  const auto cp = static_cast<size_t>(spec.c_padded);
  if (d.depthwise) {
    spec.w.assign(static_cast<size_t>(taps) * cp, 0.0);
    for (int64_t m = 0; m < d.m; ++m) {
      for (int64_t tap = 0; tap < taps; ++tap) {
        spec.w[static_cast<size_t>(tap) * cp + static_cast<size_t>(m)] =
            dir[static_cast<size_t>(m)] * static_cast<double>(w->f32[static_cast<size_t>(m * taps + tap)]);
      }
    }
  } else {
    // [c][tap][c_padded]: the reference adds input channel by input channel, taps row-major.
    const int64_t c_in = d.g.in_c;
    spec.w.assign(cp * static_cast<size_t>(c_in * taps), 0.0);
    for (int64_t m = 0; m < d.m; ++m) {
      for (int64_t c = 0; c < c_in; ++c) {
        for (int64_t tap = 0; tap < taps; ++tap) {
          spec.w[static_cast<size_t>((c * taps + tap) * spec.c_padded + m)] =
              dir[static_cast<size_t>(m)] * static_cast<double>(w->f32[static_cast<size_t>((m * c_in + c) * taps + tap)]);
        }
      }
    }
  }
  spec.has_bias = d.has_bias;
  spec.bias.assign(cp, 0.0);
  for (size_t m = 0; m < ms; ++m) spec.bias[m] = dir[m] * d.bias[m];
  if (chain.end_tensor >= 0) {
    spec.packed_t = pack_float_thresholds(thresholds.data(), d.m, rq.count, kernel.nr);
    spec.threshold_count = rq.count;
    if (!d.depthwise && options_.simd) spec.filter = make_fconv_filter(d.g, spec.w, spec.bias, spec.c_padded, in->second, thresholds, rq.count);
    const int slot = new_codes_slot(pixels * d.m);
    add_step(make_fconv_step({name, "fconv", kernel.name, macs}, std::move(spec), in->first, slot));
    finish_codes(slot, rq);
    return true;
  }
  const int slot = new_floats_slot(pixels * d.m);
  add_step(make_fconv_step({node.name, "fconv", kernel.name, macs}, std::move(spec), in->first, slot));
  ValueRef v;
  v.kind = ValueRef::kFloats;
  v.slot = slot;
  v.shape = *out_shape;
  values_[static_cast<size_t>(out)] = std::move(v);
  fast_macs_ += macs;
  return true;
}

bool Compiler::try_lut(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  if (node.inputs.empty() || node.inputs[0] < 0) return false;
  const int in = node.inputs[0];
  const ValueRef& v = values_[static_cast<size_t>(in)];
  const auto& info = graph_.tensor(in);
  const auto in_shape = act_shape(in);
  if (v.kind != ValueRef::kInput || !info.quant || !in_shape || info.type != ElemType::kFloat) return false;
  const size_t in_rank = in_shape->logical.size();
  const auto in_map = code_map_of(*info.quant, in_shape->c, in_rank);
  if (!in_map || in_map->per_channel || in_map->a != 1) return false;
  if (graph_.consumers(in).size() != 1 || is_graph_output(graph_, in)) return false;

  // The chain: per-channel ops, at most one Flatten (after which constants must be scalars).
  std::vector<int> nodes;
  int current = in;
  size_t rank = in_rank;
  bool flattened = false;
  size_t cut = 0;
  int end = -1;
  CodeMap out_map;
  while (!is_graph_output(graph_, current)) {
    const auto consumers = graph_.consumers(current);
    if (consumers.size() != 1) break;
    const ir::Node& n = graph_.nodes[static_cast<size_t>(consumers[0])];
    const bool flatten = n.domain.empty() && n.op_type == "Flatten" && n.attr_int_or("axis", 1) == 1 && rank == 4 &&
                         !flattened && n.inputs[0] == current && n.outputs.size() == 1;
    if (flatten) {
      flattened = true;
      rank = 2;
    } else if (!is_chain_op(graph_, n, current, flattened ? 1 : in_shape->c, rank, constant_fn())) {
      break;
    }
    nodes.push_back(consumers[0]);
    current = n.outputs[0];
    const auto& q = graph_.tensor(current).quant;
    if (q && graph_.tensor(current).shape.size() == rank) {
      auto map = code_map_of(*q, in_shape->c, 4);
      if (map && !(flattened && map->per_channel)) {
        cut = nodes.size();
        end = current;
        out_map = *map;
      }
    }
  }
  bool codes = true;
  if (cut == 0) {
    // No quantizer: float values, if only float-path convolutions read them.
    if (nodes.empty() || flattened || rank != 4) return false;
    for (int c : graph_.consumers(current)) {
      if (graph_.nodes[static_cast<size_t>(c)].op_type != "Conv" || !graph_.nodes[static_cast<size_t>(c)].domain.empty()) return false;
    }
    if (is_graph_output(graph_, current)) return false;
    codes = false;
    cut = nodes.size();
    end = current;
  }
  nodes.resize(cut);
  if (std::find(nodes.begin(), nodes.end(), static_cast<int>(index)) == nodes.end()) return false;
  const auto end_shape = act_shape(end);
  if (!end_shape) return false;

  // Every input level through the chain at once: [1, C, 1, L] (NCHW) or [L, F].
  const int64_t channels = in_shape->c;
  const int64_t levels = in_map->levels;
  std::vector<float> x(static_cast<size_t>(channels * levels));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t l = 0; l < levels; ++l) {
      const auto value = static_cast<float>(static_cast<double>(in_map->b + l) * in_map->scale[0]);
      x[static_cast<size_t>(in_rank == 4 ? c * levels + l : l * channels + c)] = value;
    }
  }
  Tensor t = Tensor::from_floats(in_rank == 4 ? Shape{1, channels, 1, levels} : Shape{levels, channels}, x);
  int cur = in;
  for (int i : nodes) {
    const ir::Node& n = graph_.nodes[static_cast<size_t>(i)];
    std::vector<const Tensor*> args;
    for (int id : n.inputs) args.push_back(id < 0 ? nullptr : id == cur ? &t : constant(id));
    auto outs = evaluate_(n, args);
    t = std::move(outs.at(0));
    cur = n.outputs[0];
  }
  if (t.type != ElemType::kFloat || t.numel() != channels * levels) return false;
  auto result = [&](int64_t c, int64_t l) { return t.f32[static_cast<size_t>(in_rank == 4 ? c * levels + l : l * channels + c)]; };

  LutSpec spec;
  spec.input = v.slot;
  spec.shape = *in_shape;
  spec.shape.flat = flattened;
  spec.shape.logical = end_shape->logical;
  spec.in_scale = in_map->scale[0];
  spec.in_min = in_map->b;
  spec.in_levels = levels;
  spec.in_type = info.quant->finn_name();
  ValueRef value;
  value.shape = spec.shape;
  std::string name;
  for (int i : nodes) name += (name.empty() ? "" : "+") + graph_.nodes[static_cast<size_t>(i)].name;
  if (codes) {
    spec.codes.resize(static_cast<size_t>(channels * levels));
    value.values.assign(static_cast<size_t>(channels * out_map.levels), 0.0F);
    std::vector<bool> seen(value.values.size(), false);
    for (int64_t c = 0; c < channels; ++c) {
      const double s = out_map.scale[static_cast<size_t>(c)];
      for (int64_t l = 0; l < levels; ++l) {
        const float y = result(c, l) == 0.0F ? 0.0F : result(c, l);  // +0 for the code of zero
        const double q = std::nearbyint(static_cast<double>(y) / s);
        const double u = (q - out_map.b) / out_map.a;
        if (!(u >= 0 && u < out_map.levels && std::floor(u) == u)) return false;
        spec.codes[static_cast<size_t>(c * levels + l)] = static_cast<uint8_t>(u);
        const size_t slot = static_cast<size_t>(c * out_map.levels) + static_cast<size_t>(u);
        if (seen[slot] && value.values[slot] != y) return false;
        value.values[slot] = y;
        seen[slot] = true;
      }
      for (int u = 0; u < out_map.levels; ++u) {
        const size_t slot = static_cast<size_t>(c * out_map.levels + u);
        if (!seen[slot]) value.values[slot] = static_cast<float>((out_map.a * u + out_map.b) * s);
      }
    }
    value.kind = ValueRef::kCodes;
    value.map = out_map;
    value.bound = max_abs(value.values);
    value.slot = new_codes_slot(in_shape->numel());
  } else {
    spec.values.resize(static_cast<size_t>(channels * levels));
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t l = 0; l < levels; ++l) spec.values[static_cast<size_t>(c * levels + l)] = result(c, l);
    }
    value.kind = ValueRef::kFloats;
    value.bound = max_abs(spec.values);
    value.slot = new_floats_slot(in_shape->numel());
  }
  add_step(make_lut_step({name, "lut", "", 0}, std::move(spec), value.slot, codes));
  values_[static_cast<size_t>(end)] = std::move(value);
  for (int i : nodes) consumed_[static_cast<size_t>(i)] = true;
  return true;
}

}  // namespace dnnsplit::kernels
