// Depthwise convolutions on integer codes, also where the reference runs its float path
// (MobileNet: per-channel activation scales). There the reference sums float32 x float32
// products in double; with input values v(u) ~ q(u) * s_c and weights w ~ q_w * s_w, its result
// lies within a bound E of s_c * s_w * sum q * q_w (+ bias) that follows from the actual
// rounding of v and w. Thresholds over the integer sum are derived from the midpoint and then
// proven on both sides of every threshold with the chain evaluated at +-E; a channel where the
// proof fails (a sum within rounding distance of a threshold) is recomputed the reference's way
// after the kernel, so the result stays bit-identical.
#include <algorithm>
#include <cmath>

#include "compiler.h"
#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

PositionRange sum_range(const std::vector<int64_t>& wc, int64_t channels, int64_t k, int64_t q_lo, int64_t q_hi) {
  PositionRange sums;
  const auto ks = static_cast<size_t>(k);
  for (size_t m = 0; m < static_cast<size_t>(channels); ++m) {
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < ks; ++i) {
      const int64_t a = wc[m * ks + i] * q_lo;
      const int64_t b = wc[m * ks + i] * q_hi;
      lo += std::min({a, b, int64_t{0}});
      hi += std::max({a, b, int64_t{0}});
    }
    sums.lo.push_back(lo);
    sums.hi.push_back(hi);
  }
  return sums;
}

std::optional<PositionRange> acc_range(const std::vector<int64_t>& wc, const std::vector<int8_t>& dir, int64_t channels,
                                       int64_t k, int64_t u_max) {
  PositionRange accs;
  const auto ks = static_cast<size_t>(k);
  for (size_t m = 0; m < static_cast<size_t>(channels); ++m) {
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < ks; ++i) {
      const int64_t v = u_max * dir[m] * wc[m * ks + i];
      lo += std::min<int64_t>(0, v);
      hi += std::max<int64_t>(0, v);
    }
    if (lo < -(int64_t{1} << 30) || hi > (int64_t{1} << 30)) return std::nullopt;  // int32 accumulators
    accs.lo.push_back(lo);
    accs.hi.push_back(hi);
  }
  return accs;
}

DwSpec make_dw_spec(const LinearDesc& d, const std::vector<int64_t>& wc, const std::vector<int8_t>& dir,
                    const std::vector<int32_t>& thresholds, int count, int u_max, uint8_t pad_code, bool simd) {
  DwSpec spec;
  spec.g = d.g;
  spec.pad_code = pad_code;
  spec.threshold_count = count;
  auto weights = [&](int64_t cp) {
    std::vector<int32_t> w(static_cast<size_t>(d.k * cp), 0);
    for (int64_t m = 0; m < d.m; ++m) {
      for (int64_t tap = 0; tap < d.k; ++tap) {
        w[static_cast<size_t>(tap * cp + m)] = static_cast<int32_t>(dir[static_cast<size_t>(m)] * wc[static_cast<size_t>(m * d.k + tap)]);
      }
    }
    return w;
  };
  const DwKernel* kernel = &dwconv_best(simd, true);
  if (kernel->int16_sums) {
    const int64_t cp = round_up(d.m, kernel->nr);
    auto w = weights(cp);
    if (dw_fits_int16(w, d.k, cp, std::max<int>(u_max, pad_code))) {
      spec.kernel = kernel;
      spec.c_padded = cp;
      spec.w = std::move(w);
      spec.packed_t = pack_thresholds(thresholds.data(), d.m, count, kernel->nr);
      spec.w16 = narrow_int16(spec.w);
      spec.packed_t16 = narrow_int16(spec.packed_t);
      if (auto lines = fit_threshold_lines(thresholds.data(), d.m, count, cp)) spec.lines = std::move(*lines);
      return spec;
    }
    kernel = &dwconv_best(simd, false);
  }
  spec.kernel = kernel;
  spec.c_padded = round_up(d.m, kernel->nr);
  spec.w = weights(spec.c_padded);
  spec.packed_t = pack_thresholds(thresholds.data(), d.m, count, kernel->nr);
  return spec;
}

bool Compiler::try_float_depthwise(const ir::Node& node, const LinearDesc& d, const Chain& chain, const std::string& name,
                                   int64_t macs) {
  const ValueRef& in = values_[static_cast<size_t>(node.inputs[0])];
  if (in.kind != ValueRef::kCodes || in.shape.flat || in.shape.h != d.g.in_h || in.shape.w != d.g.in_w ||
      in.shape.c != d.g.in_c) {
    return false;
  }
  const auto& winfo = graph_.tensor(node.inputs[1]);
  const Tensor* w = constant(node.inputs[1]);
  if (!winfo.quant || w == nullptr || w->type != ElemType::kFloat) return false;
  const auto& wq = *winfo.quant;
  if (std::any_of(wq.zero_point.begin(), wq.zero_point.end(), [](float z) { return z != 0.0F; })) return false;
  if (wq.scale.size() != 1 && (static_cast<int64_t>(wq.scale.size()) != d.m || wq.channel_axis != 0)) return false;
  const CodeMap& im = in.map;
  if (d.padded && im.zero_code() < 0) return false;
  const auto ms = static_cast<size_t>(d.m);
  const auto ks = static_cast<size_t>(d.k);
  const auto levels = static_cast<size_t>(im.levels);

  // Weight codes and their relative rounding; input codes' likewise, per channel.
  std::vector<int64_t> wc(ms * ks), wsum(ms, 0);
  std::vector<double> scale(ms), bound(ms);
  for (size_t m = 0; m < ms; ++m) {
    const double sw = wq.scale.size() == 1 ? wq.scale[0] : wq.scale[m];
    if (!std::isfinite(sw) || sw <= 0.0) return false;
    double eps = 0.0;
    int64_t wabs = 0;
    for (size_t k = 0; k < ks; ++k) {
      const float wv = w->f32[static_cast<size_t>(d.widx[m * ks + k])];
      const double q = std::nearbyint(static_cast<double>(wv) / sw);
      if (q < static_cast<double>(wq.min_int()) || q > static_cast<double>(wq.max_int()) || static_cast<float>(q * sw) != wv) {
        return false;
      }
      if (q != 0.0) eps = std::max(eps, std::fabs(static_cast<double>(wv) / (q * sw) - 1.0));
      wc[m * ks + k] = static_cast<int64_t>(q);
      wsum[m] += wc[m * ks + k];
      wabs += std::llabs(wc[m * ks + k]);
    }
    const double sc = im.scale[m];
    double delta = 0.0;
    int64_t qmax = 0;
    for (size_t u = 0; u < levels; ++u) {
      const int64_t q = im.a * static_cast<int64_t>(u) + im.b;
      const double v = in.values[m * levels + u];
      if (!std::isfinite(v)) return false;
      if (q == 0) {
        if (v != 0.0) return false;
        continue;
      }
      delta = std::max(delta, std::fabs(v / (static_cast<double>(q) * sc) - 1.0));
      qmax = std::max<int64_t>(qmax, std::llabs(q));
    }
    scale[m] = sc * sw;
    // |reference - (scale * S + bias)|: the inputs' and weights' rounding, then the double sums.
    const double terms = scale[m] * static_cast<double>(qmax * wabs);
    const double rel = delta + eps + delta * eps;
    const double sums = (terms * (1.0 + rel) + std::fabs(d.bias[m])) * static_cast<double>(d.k + 4) * 0x1p-52;
    bound[m] = (terms * rel + sums) * (1.0 + 1e-9) + 1e-300;
  }

  ChainEvaluator ev(graph_, chain, d.m, graph_.tensor(node.outputs[0]).shape.size(), constant_fn(), evaluate_);
  auto z_of_sum = [&](int64_t m, int64_t sum) {
    return static_cast<double>(sum) * scale[static_cast<size_t>(m)] + d.bias[static_cast<size_t>(m)];
  };
  const int64_t u_max = im.u_max();
  const PositionRange sums = sum_range(wc, d.m, d.k, im.b, im.a * u_max + im.b);
  Requant rq;
  std::vector<int8_t> dir;
  PositionRange accs;
  auto sum_of_acc = [&](int64_t m, int64_t acc) {
    return dir[static_cast<size_t>(m)] * im.a * acc + im.b * wsum[static_cast<size_t>(m)];
  };
  try {
    dir = chain_directions(ev, sums, [&](int64_t m, int64_t s) { return static_cast<float>(z_of_sum(m, s)); });
    const auto range = acc_range(wc, dir, d.m, d.k, u_max);
    if (!range) return false;
    accs = *range;
    rq = derive_requant(ev, chain.out, accs,
                        [&](int64_t m, int64_t acc) { return static_cast<float>(z_of_sum(m, sum_of_acc(m, acc))); }, name);
  } catch (const Error&) {
    return false;  // the float path's own streamlining decides
  }

  // Proof per channel and threshold t at T: every acc >= T gives code >= t + 1 and every
  // acc < T gives code <= t, for any reference result within the bound. Rows: [t][4] x channels.
  const auto count = static_cast<size_t>(rq.count);
  std::vector<float> probe(count * 4 * ms);
  for (size_t t = 0; t < count; ++t) {
    for (size_t m = 0; m < ms; ++m) {
      const int64_t at = rq.thresholds[m * count + t];
      const auto mi = static_cast<int64_t>(m);
      const double above = z_of_sum(mi, sum_of_acc(mi, std::clamp(at, accs.lo[m], accs.hi[m])));
      const double below = z_of_sum(mi, sum_of_acc(mi, std::clamp(at - 1, accs.lo[m], accs.hi[m])));
      probe[((t * 4 + 0) * ms) + m] = static_cast<float>(above - bound[m]);
      probe[((t * 4 + 1) * ms) + m] = static_cast<float>(above + bound[m]);
      probe[((t * 4 + 2) * ms) + m] = static_cast<float>(below - bound[m]);
      probe[((t * 4 + 3) * ms) + m] = static_cast<float>(below + bound[m]);
    }
  }
  const auto codes = ev.codes(probe, nullptr);
  std::vector<int64_t> redo;
  for (size_t m = 0; m < ms; ++m) {
    bool proven = true;
    for (size_t t = 0; t < count && proven; ++t) {
      const int64_t at = rq.thresholds[m * count + t];
      const int a0 = codes[(t * 4 + 0) * ms + m], a1 = codes[(t * 4 + 1) * ms + m];
      const int b0 = codes[(t * 4 + 2) * ms + m], b1 = codes[(t * 4 + 3) * ms + m];
      if (a0 < 0 || a1 < 0 || b0 < 0 || b1 < 0) proven = false;
      const auto level = static_cast<int>(t) + 1;
      if (at <= accs.hi[m] && std::min(a0, a1) < level) proven = false;
      if (at > accs.lo[m] && std::max(b0, b1) >= level) proven = false;
    }
    if (!proven) redo.push_back(static_cast<int64_t>(m));
  }
  if (static_cast<int64_t>(redo.size()) * 4 > d.m) return false;  // mostly float work: the float kernel

  std::vector<int32_t> thresholds(rq.thresholds.begin(), rq.thresholds.end());
  DwSpec spec = make_dw_spec(d, wc, dir, thresholds, rq.count, static_cast<int>(u_max),
                             static_cast<uint8_t>(std::max(0, im.zero_code())), options_.simd);
  spec.has_bias = d.has_bias;
  if (!redo.empty()) {
    FloatRequant f = float_requant(d, chain, graph_.tensor(node.outputs[0]).shape.size(), *w, in.bound, name);
    for (int64_t m : redo) {
      const auto mu = static_cast<size_t>(m);
      DwExactChannel e;
      e.channel = m;
      e.values.assign(in.values.begin() + static_cast<ptrdiff_t>(mu * levels),
                      in.values.begin() + static_cast<ptrdiff_t>((mu + 1) * levels));
      for (size_t k = 0; k < ks; ++k) {
        e.w.push_back(f.dir[mu] * static_cast<double>(w->f32[static_cast<size_t>(d.widx[mu * ks + k])]));
      }
      e.bias = f.dir[mu] * d.bias[mu];
      e.thresholds.assign(f.thresholds.begin() + static_cast<ptrdiff_t>(mu * count),
                          f.thresholds.begin() + static_cast<ptrdiff_t>((mu + 1) * count));
      spec.exact.push_back(std::move(e));
    }
  }
  const std::string kernel = spec.kernel->name + (redo.empty() ? "" : "+" + std::to_string(redo.size()) + "f64");
  const int slot = new_codes_slot(d.g.out_h * d.g.out_w * d.m);
  add_step(make_dwconv_step({name, "dwconv", kernel, macs}, std::move(spec), in.slot, slot));
  finish_chain(chain, slot, rq, macs);
  return true;
}

}  // namespace dnnsplit::kernels
