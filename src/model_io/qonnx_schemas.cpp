// Schemas for the QONNX custom ops, so libonnx's checker and shape inference accept QONNX and
// FINN-ONNX models. All of these ops keep their input's shape and element type.
#include <mutex>

#include "dnnsplit/model_io.h"
#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"

namespace dnnsplit {

namespace {

constexpr const char* kQonnxDomains[] = {"qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"};

void same_shape_and_type(onnx::InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
}

onnx::OpSchema base_schema(const char* name, const char* domain, const char* doc) {
  onnx::OpSchema schema;
  schema.SetName(name)
      .SetDomain(domain)
      .SinceVersion(1)
      .SetDoc(doc)
      .Output(0, "Y", "result, same shape as X", "T")
      .TypeConstraint("T", {"tensor(float)", "tensor(double)", "tensor(float16)"}, "float tensors")
      .TypeAndShapeInferenceFunction(same_shape_and_type);
  return schema;
}

void register_quant(const char* name, const char* domain) {
  auto schema = base_schema(name, domain, "QONNX integer quantization (uniform, with rounding mode)");
  schema.Input(0, "X", "input", "T")
      .Input(1, "scale", "scale", "T")
      .Input(2, "zeropt", "zero point", "T")
      .Input(3, "bitwidth", "bit width", "T")
      .Attr("signed", "1 for a signed integer range", onnx::AttributeProto::INT, static_cast<int64_t>(1))
      .Attr("narrow", "1 drops the most negative value", onnx::AttributeProto::INT, static_cast<int64_t>(0))
      .Attr("rounding_mode", "ROUND, CEIL, FLOOR, UP, DOWN, HALF_UP, HALF_DOWN", onnx::AttributeProto::STRING,
            std::string("ROUND"));
  onnx::RegisterSchema(schema);
}

void register_bipolar_quant(const char* domain) {
  auto schema = base_schema("BipolarQuant", domain, "QONNX bipolar quantization: scale * sign(X), sign(0) = +1");
  schema.Input(0, "X", "input", "T").Input(1, "scale", "scale", "T");
  onnx::RegisterSchema(schema);
}

void register_trunc(const char* domain) {
  auto schema = base_schema("Trunc", domain, "QONNX truncation of the least significant bits (v1 and v2)");
  schema.Input(0, "X", "input", "T")
      .Input(1, "scale", "scale", "T")
      .Input(2, "zeropt", "zero point", "T")
      .Input(3, "in_bitwidth", "input bit width", "T")
      .Input(4, "out_bitwidth_or_out_scale", "v1: output bit width; v2: output scale", "T")
      .Input(5, "out_bitwidth", "v2: output bit width", "T", onnx::OpSchema::Optional)
      .Attr("rounding_mode", "ROUND, CEIL or FLOOR", onnx::AttributeProto::STRING, std::string("FLOOR"))
      .Attr("signed", "v2: signed output range", onnx::AttributeProto::INT, static_cast<int64_t>(1))
      .Attr("narrow", "v2: narrow output range", onnx::AttributeProto::INT, static_cast<int64_t>(0));
  onnx::RegisterSchema(schema);
}

void register_multithreshold(const char* domain) {
  auto schema = base_schema("MultiThreshold", domain, "FINN MultiThreshold: out_scale * #(x >= t) + out_bias");
  schema.Input(0, "v", "input", "T")
      .Input(1, "thresholds", "thresholds, shape (C, N) or (1, N)", "T")
      .Attr("out_dtype", "FINN data type of the result", onnx::AttributeProto::STRING, std::string("UINT8"))
      .Attr("out_scale", "scale applied to the count", onnx::AttributeProto::FLOAT, 1.0F)
      .Attr("out_bias", "bias added after scaling", onnx::AttributeProto::FLOAT, 0.0F)
      .Attr("data_layout", "NCHW, NHWC, NC, ...", onnx::AttributeProto::STRING, std::string("NCHW"));
  onnx::RegisterSchema(schema);
}

}  // namespace

void register_qonnx_schemas() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
    for (const char* domain : kQonnxDomains) {
      if (!ranges.Map().count(domain)) ranges.AddDomainToVersion(domain, 1, 1);
      register_quant("Quant", domain);
      register_quant("IntQuant", domain);
      register_bipolar_quant(domain);
      register_trunc(domain);
      register_multithreshold(domain);
    }
  });
}

}  // namespace dnnsplit
