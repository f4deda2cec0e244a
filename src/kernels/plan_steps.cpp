// The step kinds of a compiled plan: layout conversions at the edges of the fast region, the
// reference fallback, and the compute steps that call the kernel families.
#include "plan_steps.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

namespace {

// QGemmArgs and DwArgs: the step's threshold lines, when it has them.
template <typename Args>
void use_lines(Args& args, const ThresholdLines& lines) {
  if (lines.inv.empty()) return;
  args.line_inv = lines.inv.data();
  args.line_off = lines.off.data();
}

// Gives t the type and shape, reusing its storage when the size is unchanged.
void prepare(Tensor& t, ElemType type, const Shape& shape) {
  const auto n = static_cast<size_t>(shape_numel(shape));
  t.type = type;
  t.shape = shape;
  if (type == ElemType::kFloat) {
    t.f32.resize(n);
  } else if (type == ElemType::kDouble) {
    t.f64.resize(n);
  } else {
    t.i64.resize(n);
  }
}

class InputStep final : public Step {
 public:
  InputStep(StepInfo info, int input, int slot) : Step(std::move(info)), input_(input), slot_(slot) {}
  void run_image(Workspace& ws, const RunContext& ctx, int64_t j) const override {
    const Tensor& src = (*ctx.inputs)[static_cast<size_t>(input_)];
    Tensor& dst = ws.tensor(slot_, j);
    Shape shape = src.shape;  // the fed shape, batch 1
    shape[0] = 1;
    prepare(dst, src.type, shape);
    const auto n = static_cast<size_t>(shape_numel(shape));
    const size_t at = static_cast<size_t>((ctx.image + j)) * n;
    if (src.type == ElemType::kFloat) {
      std::copy_n(src.f32.begin() + static_cast<ptrdiff_t>(at), n, dst.f32.begin());
    } else if (src.type == ElemType::kDouble) {
      std::copy_n(src.f64.begin() + static_cast<ptrdiff_t>(at), n, dst.f64.begin());
    } else {
      std::copy_n(src.i64.begin() + static_cast<ptrdiff_t>(at), n, dst.i64.begin());
    }
  }

 private:
  int input_;
  int slot_;
};

class LutStep final : public Step {
 public:
  LutStep(StepInfo info, LutSpec spec, int slot, bool codes)
      : Step(std::move(info)), spec_(std::move(spec)), slot_(slot), codes_(codes) {}
  void run_image(Workspace& ws, const RunContext& ctx, int64_t j) const override {
    const Tensor& src = (*ctx.inputs)[static_cast<size_t>(spec_.input)];
    const ActShape& s = spec_.shape;
    const int64_t plane = s.h * s.w;
    const int64_t base = (ctx.image + j) * s.c * plane;
    for (int64_t c = 0; c < s.c; ++c) {
      if (src.type == ElemType::kFloat && spec_.in_scale == 1.0) {
        plane_unit_scale(src.f32.data() + base + c * plane, c, plane, ws, j);
      } else {
        plane_general(src, base + c * plane, c, plane, ws, j);
      }
    }
  }

 private:
  // x = q exactly: the integer test is the grid test.
  void plane_unit_scale(const float* x, int64_t c, int64_t plane, Workspace& ws, int64_t j) const {
    const int64_t stride = spec_.shape.c;
    const auto min = static_cast<int32_t>(spec_.in_min);
    const auto lo = static_cast<float>(spec_.in_min);
    const auto hi = static_cast<float>(spec_.in_min + spec_.in_levels - 1);
    if (codes_) {
      const uint8_t* lut = spec_.codes.data() + c * spec_.in_levels;
      uint8_t* out = ws.code(slot_, j) + c;
      for (int64_t p = 0; p < plane; ++p) {
        const float v = x[p];
        if (!(v >= lo && v <= hi)) fail(static_cast<double>(v), c * plane + p);
        const auto q = static_cast<int32_t>(v);
        if (static_cast<float>(q) != v) fail(static_cast<double>(v), c * plane + p);
        const auto index = static_cast<uint32_t>(q - min);
        out[p * stride] = lut[index];
      }
    } else {
      const float* lut = spec_.values.data() + c * spec_.in_levels;
      float* out = ws.flt(slot_, j) + c;
      for (int64_t p = 0; p < plane; ++p) {
        const float v = x[p];
        if (!(v >= lo && v <= hi)) fail(static_cast<double>(v), c * plane + p);
        const auto q = static_cast<int32_t>(v);
        if (static_cast<float>(q) != v) fail(static_cast<double>(v), c * plane + p);
        const auto index = static_cast<uint32_t>(q - min);
        out[p * stride] = lut[index];
      }
    }
  }

  void plane_general(const Tensor& src, int64_t first, int64_t c, int64_t plane, Workspace& ws, int64_t j) const {
    const int64_t stride = spec_.shape.c;
    for (int64_t p = 0; p < plane; ++p) {
      const double x = src.at(first + p);
      const double q = std::nearbyint(x / spec_.in_scale);
      const double index = q - static_cast<double>(spec_.in_min);
      if (!(index >= 0 && index < static_cast<double>(spec_.in_levels)) ||
          static_cast<double>(static_cast<float>(q * spec_.in_scale)) != x) {
        fail(x, first + p);
      }
      const auto i = static_cast<size_t>(index);
      if (codes_) {
        ws.code(slot_, j)[p * stride + c] = spec_.codes[static_cast<size_t>(c * spec_.in_levels) + i];
      } else {
        ws.flt(slot_, j)[p * stride + c] = spec_.values[static_cast<size_t>(c * spec_.in_levels) + i];
      }
    }
  }

  [[noreturn]] void fail(double x, int64_t at) const {
    std::ostringstream msg;
    msg << "graph input " << spec_.input << " value " << x << " (near flat index " << at << " of its image) is not on its "
        << spec_.in_type << " grid (scale " << spec_.in_scale << "), which the fast plan reads it as";
    throw Error(msg.str());
  }

  LutSpec spec_;
  int slot_;
  bool codes_;
};

// NHWC element (p, c) <-> NCHW index c * plane + p.
class CodesToTensorStep final : public Step {
 public:
  CodesToTensorStep(StepInfo info, ActShape shape, std::vector<float> values, int levels, int in, int out)
      : Step(std::move(info)), shape_(std::move(shape)), values_(std::move(values)), levels_(levels), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    Tensor& t = ws.tensor(out_, j);
    prepare(t, ElemType::kFloat, shape_.logical);
    const uint8_t* codes = ws.code(in_, j);
    const int64_t plane = shape_.h * shape_.w;
    for (int64_t p = 0; p < plane; ++p) {
      for (int64_t c = 0; c < shape_.c; ++c) {
        t.f32[static_cast<size_t>(c * plane + p)] = values_[static_cast<size_t>(c * levels_ + codes[p * shape_.c + c])];
      }
    }
  }

 private:
  ActShape shape_;
  std::vector<float> values_;
  int levels_;
  int in_, out_;
};

class FloatsToTensorStep final : public Step {
 public:
  FloatsToTensorStep(StepInfo info, ActShape shape, int in, int out)
      : Step(std::move(info)), shape_(std::move(shape)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    Tensor& t = ws.tensor(out_, j);
    prepare(t, ElemType::kFloat, shape_.logical);
    const float* src = ws.flt(in_, j);
    const int64_t plane = shape_.h * shape_.w;
    for (int64_t p = 0; p < plane; ++p) {
      for (int64_t c = 0; c < shape_.c; ++c) t.f32[static_cast<size_t>(c * plane + p)] = src[p * shape_.c + c];
    }
  }

 private:
  ActShape shape_;
  int in_, out_;
};

class CodesToFloatsStep final : public Step {
 public:
  CodesToFloatsStep(StepInfo info, ActShape shape, std::vector<float> values, int levels, const DecodeKernel* kernel,
                    DecodeArgs args, std::vector<float> scale, int in, int out)
      : Step(std::move(info)), shape_(std::move(shape)), values_(std::move(values)), levels_(levels), kernel_(kernel),
        args_(args), scale_(std::move(scale)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    const uint8_t* codes = ws.code(in_, j);
    float* dst = ws.flt(out_, j);
    if (kernel_ != nullptr) {
      DecodeArgs args = args_;
      args.in = codes;
      args.scale = scale_.data();
      args.out = dst;
      kernel_->fn(args);
      return;
    }
    const int64_t plane = shape_.h * shape_.w;
    for (int64_t p = 0; p < plane; ++p) {
      for (int64_t c = 0; c < shape_.c; ++c) {
        dst[p * shape_.c + c] = values_[static_cast<size_t>(c * levels_ + codes[p * shape_.c + c])];
      }
    }
  }

 private:
  ActShape shape_;
  std::vector<float> values_;
  int levels_;
  const DecodeKernel* kernel_;
  DecodeArgs args_;
  std::vector<float> scale_;
  int in_, out_;
};

class TensorToFloatsStep final : public Step {
 public:
  TensorToFloatsStep(StepInfo info, ActShape shape, int in, int out)
      : Step(std::move(info)), shape_(std::move(shape)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    const Tensor& t = ws.tensor(in_, j);
    check(t.type == ElemType::kFloat && t.numel() == shape_.numel(),
          info().name + ": expected a float32 tensor of " + std::to_string(shape_.numel()) + " values");
    float* dst = ws.flt(out_, j);
    const int64_t plane = shape_.h * shape_.w;
    for (int64_t p = 0; p < plane; ++p) {
      for (int64_t c = 0; c < shape_.c; ++c) dst[p * shape_.c + c] = t.f32[static_cast<size_t>(c * plane + p)];
    }
  }

 private:
  ActShape shape_;
  int in_, out_;
};

class EncodeStep final : public Step {
 public:
  EncodeStep(StepInfo info, EncodeSpec spec, int in, int out) : Step(std::move(info)), spec_(std::move(spec)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    const Tensor& t = ws.tensor(in_, j);
    const ActShape& s = spec_.shape;
    check(t.type == ElemType::kFloat && t.numel() == s.numel(),
          info().name + ": expected a float32 tensor of " + std::to_string(s.numel()) + " values");
    uint8_t* dst = ws.code(out_, j);
    const int64_t plane = s.h * s.w;
    const CodeMap& m = spec_.map;
    for (int64_t c = 0; c < s.c; ++c) {
      const double scale = m.scale[static_cast<size_t>(c)];
      for (int64_t p = 0; p < plane; ++p) {
        const float x = t.f32[static_cast<size_t>(c * plane + p)];
        const double q = std::nearbyint(static_cast<double>(x) / scale);
        const double u = (q - m.b) / m.a;
        if (!(u >= 0 && u < m.levels && std::floor(u) == u) || static_cast<float>(q * scale) != x) {
          std::ostringstream msg;
          msg << "tensor '" << spec_.tensor_name << "' value " << x << " at flat index " << c * plane + p
              << " is not on its " << spec_.type_name << " grid with scale " << scale;
          throw Error(msg.str());
        }
        dst[p * s.c + c] = static_cast<uint8_t>(u);
      }
    }
  }

 private:
  EncodeSpec spec_;
  int in_, out_;
};

class ReferenceStep final : public Step {
 public:
  ReferenceStep(StepInfo info, ReferenceSpec spec) : Step(std::move(info)), spec_(std::move(spec)) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    std::vector<const Tensor*> args(spec_.input_slots.size());
    for (size_t i = 0; i < args.size(); ++i) {
      const int slot = spec_.input_slots[i];
      args[i] = slot >= 0 ? &ws.tensor(slot, j) : spec_.constants[i];
    }
    auto outputs = (*spec_.evaluate)(*spec_.node, args);
    for (size_t k = 0; k < spec_.output_slots.size() && k < outputs.size(); ++k) {
      if (spec_.output_slots[k] >= 0) ws.tensor(spec_.output_slots[k], j) = std::move(outputs[k]);
    }
  }

 private:
  ReferenceSpec spec_;
};

class OutputStep final : public Step {
 public:
  OutputStep(StepInfo info, int output, int slot) : Step(std::move(info)), output_(output), slot_(slot) {}
  void run_image(Workspace& ws, const RunContext& ctx, int64_t j) const override {
    const Tensor& t = ws.tensor(slot_, j);
    Tensor& dst = (*ctx.outputs)[static_cast<size_t>(output_)];
    const auto n = static_cast<size_t>(t.numel());
    const size_t at = static_cast<size_t>((ctx.image + j)) * n;
    check(!t.shape.empty() && t.shape[0] == 1, info().name + ": output " + shape_to_string(t.shape) +
                                                    " of one image has no batch dimension of 1");
    if (dst.shape.empty()) {  // output shape not known statically: the first image sets it
      Shape shape = t.shape;
      shape[0] = ctx.batch;
      prepare(dst, t.type, shape);
    }
    check(dst.type == t.type && static_cast<size_t>(dst.numel()) >= at + n &&
              std::equal(t.shape.begin() + 1, t.shape.end(), dst.shape.begin() + 1, dst.shape.end()),
          info().name + ": output of one image " + shape_to_string(t.shape) + " does not fit the batch output " +
              shape_to_string(dst.shape));
    if (t.type == ElemType::kFloat) {
      std::copy(t.f32.begin(), t.f32.end(), dst.f32.begin() + static_cast<ptrdiff_t>(at));
    } else if (t.type == ElemType::kDouble) {
      std::copy(t.f64.begin(), t.f64.end(), dst.f64.begin() + static_cast<ptrdiff_t>(at));
    } else {
      std::copy(t.i64.begin(), t.i64.end(), dst.i64.begin() + static_cast<ptrdiff_t>(at));
    }
  }

 private:
  int output_;
  int slot_;
};

// ---- compute ------------------------------------------------------------------------------------

// The reference's exact-path formula for images [j0, j0 + count) of int32 results acc (rows:
// the images' pixels back to back), one rounding per output, NCHW.
struct FloatFormula {
  int a = 1, b = 0;
  const std::vector<int64_t>* wsum = nullptr;  // b * wsum[n] is added when present
  const std::vector<double>* scale = nullptr;
  const std::vector<double>* bias = nullptr;
  double alpha = 1.0;
  bool gemm_alpha = false;
  const Shape* logical = nullptr;
  int out_slot = 0;

  void write(Workspace& ws, int64_t j0, int64_t count, int64_t pixels, int64_t n) const {
    for (int64_t img = 0; img < count; ++img) {
      Tensor& t = ws.tensor(out_slot, j0 + img);
      prepare(t, ElemType::kFloat, *logical);
      const int32_t* acc = ws.acc.data() + img * pixels * n;
      for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t ch = 0; ch < n; ++ch) {
          const auto c = static_cast<size_t>(ch);
          const int64_t sum = a * static_cast<int64_t>(acc[p * n + ch]) + (wsum != nullptr ? b * (*wsum)[c] : 0);
          const double scaled = static_cast<double>(sum) * (*scale)[c];
          const double y = gemm_alpha ? alpha * scaled + (*bias)[c] : scaled + (*bias)[c];
          t.f32[static_cast<size_t>(ch * pixels + p)] = static_cast<float>(y);
        }
      }
    }
  }
};

class QGemmStep final : public Step {
 public:
  QGemmStep(StepInfo info, QGemmSpec spec, int in, int out, bool to_tensor)
      : Step(std::move(info)), s_(std::move(spec)), in_(in), out_(out), to_tensor_(to_tensor) {
    formula_ = {s_.a, s_.b, &s_.wsum, &s_.scale, &s_.bias, s_.alpha, s_.gemm_alpha, &s_.out_logical, out_};
  }

  // Rows that are the input itself: the whole group is one matrix.
  void run(Workspace& ws, const RunContext& ctx) const override {
    if (!s_.direct) {
      Step::run(ws, ctx);
      return;
    }
    gemm(ws, 0, ctx.count);
  }

  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    if (s_.direct) {
      gemm(ws, j, 1);
      return;
    }
    const uint8_t* in = ws.code(in_, j);
    const int64_t pixels = s_.g.out_h * s_.g.out_w;
    const int64_t n = s_.g.out_c;
    QGemmArgs args = base_args();
    auto set_output = [&](int64_t p0) {
      if (to_tensor_) {
        args.c = ws.acc.data() + p0 * n;
        args.ldc = static_cast<size_t>(n);
      } else {
        args.out = ws.code(out_, j) + p0 * n;
        args.ldo = static_cast<size_t>(n);
      }
    };
    if (s_.implicit) {
      const ConvGeometry& g = s_.g;
      args.segments = static_cast<int>(g.kernel_h);
      args.seg_len = g.kernel_w * g.in_c;
      args.seg_offset = s_.seg_offset.data();
      args.lda = static_cast<size_t>(g.stride_w * g.in_c);
      args.m = g.out_w;
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        args.a = in + oy * g.stride_h * g.in_w * g.in_c;
        set_output(oy * g.out_w);
        s_.kernel->fn(args);
      }
    } else {
      for (int64_t p0 = 0; p0 < pixels; p0 += s_.rows_per_block) {
        const int64_t p1 = std::min(pixels, p0 + s_.rows_per_block);
        im2col_u8(s_.g, in, p0, p1, s_.pad_code, ws.scratch.data(), static_cast<size_t>(s_.k_padded));
        args.a = ws.scratch.data();
        args.lda = static_cast<size_t>(s_.k_padded);
        args.m = p1 - p0;
        set_output(p0);
        s_.kernel->fn(args);
      }
    }
    if (to_tensor_) formula_.write(ws, j, 1, pixels, n);
  }

 private:
  QGemmArgs base_args() const {
    QGemmArgs args;
    args.w = s_.packed_w.data();
    args.n = s_.g.out_c;
    args.k_padded = s_.k_padded;
    args.k_chunk = s_.k_chunk;
    args.thresholds = s_.packed_t.data();
    args.threshold_count = s_.threshold_count;
    if (!s_.packed_t16.empty()) args.thresholds16 = s_.packed_t16.data();
    use_lines(args, s_.lines);
    return args;
  }

  void gemm(Workspace& ws, int64_t j0, int64_t count) const {
    const int64_t pixels = s_.g.out_h * s_.g.out_w;
    const int64_t n = s_.g.out_c;
    QGemmArgs args = base_args();
    args.a = ws.code(in_, j0);
    args.lda = static_cast<size_t>(s_.g.in_c);
    args.m = pixels * count;
    if (to_tensor_) {
      args.c = ws.acc.data();
      args.ldc = static_cast<size_t>(n);
    } else {
      args.out = ws.code(out_, j0);
      args.ldo = static_cast<size_t>(n);
    }
    s_.kernel->fn(args);
    if (to_tensor_) formula_.write(ws, j0, count, pixels, n);
  }

  QGemmSpec s_;
  int in_, out_;
  bool to_tensor_;
  FloatFormula formula_;
};

class BGemmStep final : public Step {
 public:
  BGemmStep(StepInfo info, BGemmSpec spec, int in, int out, bool to_tensor)
      : Step(std::move(info)), s_(std::move(spec)), in_(in), out_(out), to_tensor_(to_tensor) {
    formula_ = {1, 0, nullptr, &s_.scale, &s_.bias, s_.alpha, s_.gemm_alpha, &s_.out_logical, out_};
    direct_ = s_.g.taps() == 1 && s_.g.stride_h == 1 && s_.g.stride_w == 1;
  }

  void run(Workspace& ws, const RunContext& ctx) const override {
    if (!direct_) {
      Step::run(ws, ctx);
      return;
    }
    gemm(ws, 0, ctx.count);
  }

  void run_image(Workspace& ws, const RunContext&, int64_t j) const override { gemm(ws, j, 1); }

 private:
  void gemm(Workspace& ws, int64_t j0, int64_t count) const {
    const ConvGeometry& g = s_.g;
    const int64_t pixels_in = g.in_h * g.in_w;
    const int64_t pixels = g.out_h * g.out_w;
    pack_bits_u8(ws.code(in_, j0), pixels_in * count, g.in_c, s_.words_per_pixel, ws.bits.data());
    BGemmArgs args;
    args.w = s_.packed_w.data();
    args.n = g.out_c;
    args.k_words = s_.k_words;
    args.k_bits = s_.k_bits;
    args.lda = static_cast<size_t>(s_.k_words);
    if (direct_) {
      args.a = ws.bits.data();
      args.m = pixels * count;
      run_kernel(ws, args, j0, 0);
    } else {
      // im2col over whole words: each input pixel is words_per_pixel * 8 bytes (count == 1).
      ConvGeometry gb = g;
      gb.in_c = s_.words_per_pixel * 8;
      im2col_u8(gb, reinterpret_cast<const uint8_t*>(ws.bits.data()), 0, pixels, 0, ws.scratch.data(),
                static_cast<size_t>(s_.k_words) * 8);
      args.a = reinterpret_cast<const uint64_t*>(ws.scratch.data());
      args.m = pixels;
      run_kernel(ws, args, j0, 0);
    }
    if (to_tensor_) formula_.write(ws, j0, count, pixels, g.out_c);
  }

  void run_kernel(Workspace& ws, BGemmArgs& args, int64_t j0, int64_t p0) const {
    const int64_t n = s_.g.out_c;
    if (to_tensor_) {
      args.c = ws.acc.data() + p0 * n;
      args.ldc = static_cast<size_t>(n);
    } else {
      args.out = ws.code(out_, j0) + p0 * n;
      args.ldo = static_cast<size_t>(n);
      args.thresholds = s_.packed_t.data();
      args.threshold_count = s_.threshold_count;
    }
    s_.kernel->fn(args);
  }

  BGemmSpec s_;
  int in_, out_;
  bool to_tensor_;
  bool direct_ = false;
  FloatFormula formula_;
};

class DwStep final : public Step {
 public:
  DwStep(StepInfo info, DwSpec spec, int in, int out) : Step(std::move(info)), s_(std::move(spec)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    DwArgs args;
    args.g = &s_.g;
    args.in = ws.code(in_, j);
    args.pad_code = s_.pad_code;
    args.w = s_.w.data();
    args.c_padded = s_.c_padded;
    args.oy0 = 0;
    args.oy1 = s_.g.out_h;
    args.out = ws.code(out_, j);
    args.thresholds = s_.packed_t.data();
    args.threshold_count = s_.threshold_count;
    args.w16 = s_.w16.data();
    args.thresholds16 = s_.packed_t16.data();
    use_lines(args, s_.lines);
    s_.kernel->fn(args);
    for (const auto& e : s_.exact) redo(e, args.in, args.out);
  }

 private:
  // The reference's float path for one channel: double sum of exact products in tap order,
  // padding skipped (an exact zero cannot change a sum that starts at +0), bias, one rounding.
  void redo(const DwExactChannel& e, const uint8_t* in, uint8_t* out) const {
    const ConvGeometry& g = s_.g;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        double acc = 0.0;
        for_each_tap(g, oy, ox, [&](int64_t tap, int64_t iy, int64_t ix, bool inside) {
          if (!inside) return;
          const uint8_t u = in[(iy * g.in_w + ix) * g.in_c + e.channel];
          acc += static_cast<double>(e.values[u]) * e.w[static_cast<size_t>(tap)];
        });
        if (s_.has_bias) acc += e.bias;
        const auto y = static_cast<float>(acc);
        uint8_t code = 0;
        for (float t : e.thresholds) code = static_cast<uint8_t>(code + (y >= t ? 1 : 0));
        out[(oy * g.out_w + ox) * g.out_c + e.channel] = code;
      }
    }
  }

  DwSpec s_;
  int in_, out_;
};

class FconvStep final : public Step {
 public:
  FconvStep(StepInfo info, FconvSpec spec, int in, int out) : Step(std::move(info)), s_(std::move(spec)), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    FconvArgs args;
    args.g = &s_.g;
    args.in = ws.flt(in_, j);
    args.w = s_.w.data();
    args.bias = s_.has_bias ? s_.bias.data() : nullptr;
    args.c_padded = s_.c_padded;
    args.oy0 = 0;
    args.oy1 = s_.g.out_h;
    if (s_.packed_t.empty()) {
      args.out_values = ws.flt(out_, j);
    } else {
      args.out_codes = ws.code(out_, j);
      args.thresholds = s_.packed_t.data();
      args.threshold_count = s_.threshold_count;
      if (s_.filter) use_fconv_filter(args, *s_.filter);
    }
    s_.kernel->fn(args);
  }

 private:
  FconvSpec s_;
  int in_, out_;
};

class MaxPoolStep final : public Step {
 public:
  MaxPoolStep(StepInfo info, const MaxPoolKernel& kernel, ConvGeometry g, int in, int out)
      : Step(std::move(info)), kernel_(kernel), g_(g), in_(in), out_(out) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    kernel_.fn(g_, ws.code(in_, j), 0, g_.out_h, ws.code(out_, j));
  }

 private:
  const MaxPoolKernel& kernel_;
  ConvGeometry g_;
  int in_, out_;
};

}  // namespace

std::unique_ptr<Step> make_input_step(StepInfo info, int input, int tensor_slot) {
  return std::make_unique<InputStep>(std::move(info), input, tensor_slot);
}
std::unique_ptr<Step> make_lut_step(StepInfo info, LutSpec spec, int out_slot, bool codes) {
  return std::make_unique<LutStep>(std::move(info), std::move(spec), out_slot, codes);
}
std::unique_ptr<Step> make_codes_to_tensor_step(StepInfo info, ActShape shape, std::vector<float> values, int levels,
                                                int code_slot, int tensor_slot) {
  return std::make_unique<CodesToTensorStep>(std::move(info), std::move(shape), std::move(values), levels, code_slot,
                                             tensor_slot);
}
std::unique_ptr<Step> make_floats_to_tensor_step(StepInfo info, ActShape shape, int float_slot, int tensor_slot) {
  return std::make_unique<FloatsToTensorStep>(std::move(info), std::move(shape), float_slot, tensor_slot);
}
std::unique_ptr<Step> make_codes_to_floats_step(StepInfo info, ActShape shape, std::vector<float> values,
                                                const CodeMap& map, bool simd, int code_slot, int float_slot) {
  const DecodeKernel& kernel = decode_best(simd);
  std::vector<float> scale(static_cast<size_t>(round_up(shape.c, kernel.nr)), 0.0F);
  bool affine = true;
  for (int64_t c = 0; c < shape.c; ++c) {
    scale[static_cast<size_t>(c)] = static_cast<float>(map.scale[static_cast<size_t>(c)]);
    for (int u = 0; u < map.levels; ++u) {
      const float v = static_cast<float>(map.a * u + map.b) * scale[static_cast<size_t>(c)];
      affine = affine && v == values[static_cast<size_t>(c * map.levels + u)];
    }
  }
  DecodeArgs args;
  args.pixels = shape.h * shape.w;
  args.channels = shape.c;
  args.a = map.a;
  args.b = map.b;
  if (affine) info.kernel = kernel.name;
  return std::make_unique<CodesToFloatsStep>(std::move(info), std::move(shape), std::move(values), map.levels,
                                             affine ? &kernel : nullptr, args, std::move(scale), code_slot, float_slot);
}
std::unique_ptr<Step> make_tensor_to_floats_step(StepInfo info, ActShape shape, int tensor_slot, int float_slot) {
  return std::make_unique<TensorToFloatsStep>(std::move(info), std::move(shape), tensor_slot, float_slot);
}
std::unique_ptr<Step> make_encode_step(StepInfo info, EncodeSpec spec, int tensor_slot, int code_slot) {
  return std::make_unique<EncodeStep>(std::move(info), std::move(spec), tensor_slot, code_slot);
}
std::unique_ptr<Step> make_reference_step(StepInfo info, ReferenceSpec spec) {
  return std::make_unique<ReferenceStep>(std::move(info), std::move(spec));
}
std::unique_ptr<Step> make_output_step(StepInfo info, int output, int tensor_slot) {
  return std::make_unique<OutputStep>(std::move(info), output, tensor_slot);
}
std::unique_ptr<Step> make_qgemm_step(StepInfo info, QGemmSpec spec, int in_slot, int out_slot, bool to_tensor) {
  return std::make_unique<QGemmStep>(std::move(info), std::move(spec), in_slot, out_slot, to_tensor);
}
std::unique_ptr<Step> make_bgemm_step(StepInfo info, BGemmSpec spec, int in_slot, int out_slot, bool to_tensor) {
  return std::make_unique<BGemmStep>(std::move(info), std::move(spec), in_slot, out_slot, to_tensor);
}
std::unique_ptr<Step> make_dwconv_step(StepInfo info, DwSpec spec, int in_slot, int out_slot) {
  return std::make_unique<DwStep>(std::move(info), std::move(spec), in_slot, out_slot);
}
std::unique_ptr<Step> make_fconv_step(StepInfo info, FconvSpec spec, int in_slot, int out_slot) {
  return std::make_unique<FconvStep>(std::move(info), std::move(spec), in_slot, out_slot);
}
std::unique_ptr<Step> make_maxpool_step(StepInfo info, const MaxPoolKernel& kernel, ConvGeometry g, int in_slot,
                                        int out_slot) {
  return std::make_unique<MaxPoolStep>(std::move(info), kernel, g, in_slot, out_slot);
}

}  // namespace dnnsplit::kernels
