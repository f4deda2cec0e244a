#include "dnnsplit/onnx_convert.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "dnnsplit/error.h"

namespace dnnsplit {

namespace {

template <typename T>
std::vector<T> read_raw(const std::string& raw, size_t count, const std::string& what) {
  check(raw.size() == count * sizeof(T), what + ": raw_data has " + std::to_string(raw.size()) + " bytes, expected " +
                                             std::to_string(count * sizeof(T)));
  std::vector<T> values(count);
  if (count) std::memcpy(values.data(), raw.data(), raw.size());
  return values;
}

template <typename T>
void fill_ints_from_raw(Tensor& t, const std::string& raw, size_t count, const std::string& what) {
  auto values = read_raw<T>(raw, count, what);
  t.i64.assign(values.begin(), values.end());
}

}  // namespace

Tensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& what) {
  using TP = onnx::TensorProto;
  check(proto.data_location() != TP::EXTERNAL, what + ": tensors with external data are not supported");
  Tensor t;
  t.type = elem_type_from_onnx(proto.data_type());
  for (auto d : proto.dims()) {
    check(d >= 0, what + ": negative dimension");
    t.shape.push_back(d);
  }
  const auto count = static_cast<size_t>(t.numel());
  const bool raw = proto.has_raw_data();
  const auto& bytes = proto.raw_data();
  auto expect = [&](size_t got) {
    check(got == count, what + ": has " + std::to_string(got) + " values, shape " + shape_to_string(t.shape) +
                            " needs " + std::to_string(count));
  };
  switch (proto.data_type()) {
    case TP::FLOAT:
      if (raw) {
        t.f32 = read_raw<float>(bytes, count, what);
      } else {
        expect(static_cast<size_t>(proto.float_data_size()));
        t.f32.assign(proto.float_data().begin(), proto.float_data().end());
      }
      break;
    case TP::DOUBLE:
      if (raw) {
        t.f64 = read_raw<double>(bytes, count, what);
      } else {
        expect(static_cast<size_t>(proto.double_data_size()));
        t.f64.assign(proto.double_data().begin(), proto.double_data().end());
      }
      break;
    case TP::INT64:
      if (raw) {
        fill_ints_from_raw<int64_t>(t, bytes, count, what);
      } else {
        expect(static_cast<size_t>(proto.int64_data_size()));
        t.i64.assign(proto.int64_data().begin(), proto.int64_data().end());
      }
      break;
    case TP::UINT64:
      if (raw) {
        fill_ints_from_raw<uint64_t>(t, bytes, count, what);
      } else {
        expect(static_cast<size_t>(proto.uint64_data_size()));
        t.i64.assign(proto.uint64_data().begin(), proto.uint64_data().end());
      }
      break;
    case TP::INT32:
    case TP::INT16:
    case TP::INT8:
    case TP::UINT8:
    case TP::UINT16:
    case TP::BOOL:
      if (raw) {
        switch (proto.data_type()) {
          case TP::INT32: fill_ints_from_raw<int32_t>(t, bytes, count, what); break;
          case TP::INT16: fill_ints_from_raw<int16_t>(t, bytes, count, what); break;
          case TP::INT8: fill_ints_from_raw<int8_t>(t, bytes, count, what); break;
          case TP::UINT8: fill_ints_from_raw<uint8_t>(t, bytes, count, what); break;
          case TP::UINT16: fill_ints_from_raw<uint16_t>(t, bytes, count, what); break;
          default: fill_ints_from_raw<uint8_t>(t, bytes, count, what); break;
        }
      } else {
        expect(static_cast<size_t>(proto.int32_data_size()));
        t.i64.assign(proto.int32_data().begin(), proto.int32_data().end());
      }
      break;
    case TP::UINT32:
      if (raw) {
        fill_ints_from_raw<uint32_t>(t, bytes, count, what);
      } else {
        expect(static_cast<size_t>(proto.uint64_data_size()));
        t.i64.assign(proto.uint64_data().begin(), proto.uint64_data().end());
      }
      break;
    default:
      throw Error(what + ": unsupported element type");
  }
  return t;
}

onnx::TensorProto tensor_to_onnx(const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(elem_type_to_onnx(tensor.type));
  for (auto d : tensor.shape) proto.add_dims(d);
  std::string raw;
  auto put = [&raw](const void* p, size_t n) { raw.append(static_cast<const char*>(p), n); };
  switch (tensor.type) {
    case ElemType::kFloat: put(tensor.f32.data(), tensor.f32.size() * sizeof(float)); break;
    case ElemType::kDouble: put(tensor.f64.data(), tensor.f64.size() * sizeof(double)); break;
    case ElemType::kInt64:
    case ElemType::kUint64: put(tensor.i64.data(), tensor.i64.size() * sizeof(int64_t)); break;
    default:
      for (int64_t v : tensor.i64) {
        switch (tensor.type) {
          case ElemType::kInt32: { auto x = static_cast<int32_t>(v); put(&x, sizeof x); break; }
          case ElemType::kUint32: { auto x = static_cast<uint32_t>(v); put(&x, sizeof x); break; }
          case ElemType::kInt16: { auto x = static_cast<int16_t>(v); put(&x, sizeof x); break; }
          case ElemType::kUint16: { auto x = static_cast<uint16_t>(v); put(&x, sizeof x); break; }
          case ElemType::kInt8: { auto x = static_cast<int8_t>(v); put(&x, sizeof x); break; }
          default: { auto x = static_cast<uint8_t>(v); put(&x, sizeof x); break; }
        }
      }
  }
  proto.set_raw_data(raw);
  return proto;
}

Tensor read_tensor_proto_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::TensorProto proto;
  check(proto.ParseFromString(buffer.str()), path + ": not a serialized TensorProto");
  return tensor_from_onnx(proto, path);
}

ir::Node node_from_onnx(const onnx::NodeProto& proto, ir::Graph& graph) {
  ir::Node node;
  node.name = proto.name();
  node.op_type = proto.op_type();
  node.domain = proto.domain() == "ai.onnx" ? "" : proto.domain();
  auto tensor_id = [&graph](const std::string& name) {
    if (name.empty()) return -1;
    int id = graph.find_tensor(name);
    if (id < 0) {
      ir::TensorInfo info;
      info.name = name;
      id = graph.add_tensor(std::move(info));
    }
    return id;
  };
  for (const auto& in : proto.input()) node.inputs.push_back(tensor_id(in));
  for (const auto& out : proto.output()) node.outputs.push_back(tensor_id(out));
  for (const auto& attr : proto.attribute()) {
    const std::string what = node.describe() + " attribute '" + attr.name() + "'";
    using AP = onnx::AttributeProto;
    switch (attr.type()) {
      case AP::INT: node.attributes[attr.name()] = static_cast<int64_t>(attr.i()); break;
      case AP::FLOAT: node.attributes[attr.name()] = attr.f(); break;
      case AP::STRING: node.attributes[attr.name()] = attr.s(); break;
      case AP::INTS: node.attributes[attr.name()] = std::vector<int64_t>(attr.ints().begin(), attr.ints().end()); break;
      case AP::FLOATS: node.attributes[attr.name()] = std::vector<float>(attr.floats().begin(), attr.floats().end()); break;
      case AP::STRINGS:
        node.attributes[attr.name()] = std::vector<std::string>(attr.strings().begin(), attr.strings().end());
        break;
      case AP::TENSOR: node.attributes[attr.name()] = tensor_from_onnx(attr.t(), what); break;
      default: throw Error(what + ": attribute type " + AP::AttributeType_Name(attr.type()) + " is not supported");
    }
  }
  return node;
}

onnx::NodeProto node_to_onnx(const ir::Node& node, const ir::Graph& graph) {
  onnx::NodeProto proto;
  proto.set_name(node.name);
  proto.set_op_type(node.op_type);
  if (!node.domain.empty()) proto.set_domain(node.domain);
  for (int in : node.inputs) proto.add_input(in < 0 ? std::string() : graph.tensor(in).name);
  for (int out : node.outputs) proto.add_output(graph.tensor(out).name);
  for (const auto& [key, value] : node.attributes) {
    auto* attr = proto.add_attribute();
    attr->set_name(key);
    using AP = onnx::AttributeProto;
    if (const auto* i = std::get_if<int64_t>(&value)) {
      attr->set_type(AP::INT);
      attr->set_i(*i);
    } else if (const auto* f = std::get_if<float>(&value)) {
      attr->set_type(AP::FLOAT);
      attr->set_f(*f);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      attr->set_type(AP::STRING);
      attr->set_s(*s);
    } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
      attr->set_type(AP::INTS);
      for (auto v : *is) attr->add_ints(v);
    } else if (const auto* fs = std::get_if<std::vector<float>>(&value)) {
      attr->set_type(AP::FLOATS);
      for (auto v : *fs) attr->add_floats(v);
    } else if (const auto* ss = std::get_if<std::vector<std::string>>(&value)) {
      attr->set_type(AP::STRINGS);
      for (const auto& v : *ss) attr->add_strings(v);
    } else if (const auto* t = std::get_if<Tensor>(&value)) {
      attr->set_type(AP::TENSOR);
      *attr->mutable_t() = tensor_to_onnx(*t, "");
    }
  }
  return proto;
}

}  // namespace dnnsplit
