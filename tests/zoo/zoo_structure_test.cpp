// The zoo's models read back as plain ModelProto: names, QONNX conventions, topologies and the
// hand-computed weight counts of finn-facts.md (b) / low-bit-cpu.md section 1.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "dnnsplit/error.h"
#include "zoo_test_util.h"

namespace dnnsplit {
namespace {

using test::find_attr;
using test::find_initializer;
using test::find_node;
using test::op_counts;
using test::parse_model;
using test::scalar_value;

TEST(ZooList, ListsEveryModelWithItsInput) {
  const auto entries = zoo_list();
  ASSERT_EQ(test::zoo_names(), (std::vector<std::string>{"cnv-w1a1", "cnv-w2a2", "tfc-w1a1", "tfc-w2a2",
                                                          "mobilenetv1-w4a4", "resnet8-w4a4"}));
  EXPECT_EQ(entries[0].input_shape, (Shape{1, 3, 32, 32}));
  EXPECT_EQ(entries[2].input_shape, (Shape{1, 1, 28, 28}));
  EXPECT_EQ(entries[4].input_shape, (Shape{1, 3, 224, 224}));
  for (const auto& e : entries) {
    EXPECT_EQ(e.input_datatype, "UINT8");
    EXPECT_FALSE(e.description.empty());
    EXPECT_FALSE(e.source.empty());
  }
}

TEST(ZooBuild, UnknownNameIsAnErrorListingTheValidNames) {
  try {
    zoo_build("cnv-w3a3", 1);
    FAIL() << "no error for an unknown name";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'cnv-w3a3'"), std::string::npos) << message;
    for (const auto& name : test::zoo_names()) EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

TEST(ZooBuild, SameSeedGivesSameBytesAnotherSeedDiffers) {
  for (const auto& name : test::zoo_names()) {
    const std::string a = zoo_build(name, 7);
    EXPECT_EQ(a, zoo_build(name, 7)) << name;
    EXPECT_NE(a, zoo_build(name, 8)) << name;
  }
}

// Every model: opset 13 + qonnx.custom_op.general v1, a float32 input annotated UINT8, unique
// node names, nodes in topological order, quantizers shaped as Brevitas exports them.
TEST(ZooStructure, FollowsQonnxConventions) {
  for (const auto& name : test::zoo_names()) {
    SCOPED_TRACE(name);
    const auto model = parse_model(zoo_build(name, 1));
    std::map<std::string, int64_t> opsets;
    for (const auto& o : model.opset_import()) opsets[o.domain()] = o.version();
    EXPECT_EQ(opsets, (std::map<std::string, int64_t>{{"", 13}, {"qonnx.custom_op.general", 1}}));
    const auto& g = model.graph();
    ASSERT_EQ(g.input_size(), 1);
    EXPECT_EQ(g.input(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
    ASSERT_EQ(g.quantization_annotation_size(), 1);
    EXPECT_EQ(g.quantization_annotation(0).tensor_name(), g.input(0).name());
    ASSERT_EQ(g.quantization_annotation(0).quant_parameter_tensor_names_size(), 1);
    EXPECT_EQ(g.quantization_annotation(0).quant_parameter_tensor_names(0).key(), "finn_datatype");
    EXPECT_EQ(g.quantization_annotation(0).quant_parameter_tensor_names(0).value(), "UINT8");
    ASSERT_EQ(g.output_size(), 1);

    std::set<std::string> defined{g.input(0).name()};
    for (const auto& init : g.initializer()) EXPECT_TRUE(defined.insert(init.name()).second) << init.name();
    std::set<std::string> node_names;
    for (const auto& node : g.node()) {
      EXPECT_FALSE(node.name().empty());
      EXPECT_TRUE(node_names.insert(node.name()).second) << "duplicate node name " << node.name();
      for (const auto& in : node.input()) EXPECT_TRUE(defined.count(in)) << node.name() << " reads " << in;
      for (const auto& out : node.output()) defined.insert(out);
      const bool custom = node.op_type() == "Quant" || node.op_type() == "BipolarQuant" || node.op_type() == "Trunc";
      EXPECT_EQ(node.domain(), custom ? "qonnx.custom_op.general" : "") << node.name();
      if (node.op_type() == "Quant") {
        ASSERT_EQ(node.input_size(), 4) << node.name();
        for (int k = 1; k < 4; ++k) EXPECT_NE(find_initializer(model, node.input(k)), nullptr) << node.name();
        ASSERT_NE(find_attr(node, "signed"), nullptr);
        ASSERT_NE(find_attr(node, "narrow"), nullptr);
        ASSERT_NE(find_attr(node, "rounding_mode"), nullptr);
        EXPECT_EQ(find_attr(node, "rounding_mode")->s(), "ROUND");
        EXPECT_EQ(scalar_value(model, node.input(2)), 0.0F) << node.name();
      }
      if (node.op_type() == "BipolarQuant") {
        ASSERT_EQ(node.input_size(), 2) << node.name();
        EXPECT_NE(find_initializer(model, node.input(1)), nullptr);
      }
    }
    EXPECT_TRUE(defined.count(g.output(0).name()));
  }
}

TEST(ZooStructure, CnvMatchesBrevitasTopology) {
  for (int bits : {1, 2}) {
    const std::string name = "cnv-w" + std::to_string(bits) + "a" + std::to_string(bits);
    SCOPED_TRACE(name);
    const auto model = parse_model(zoo_build(name, 3));
    const auto ops = op_counts(model);
    EXPECT_EQ(ops.at("Conv"), 6);
    EXPECT_EQ(ops.at("MatMul"), 3);
    EXPECT_EQ(ops.at("BatchNormalization"), 8);
    EXPECT_EQ(ops.at("MaxPool"), 2);
    // 9 weight quantizers + 8 activation quantizers + the 8-bit input quantizer.
    const int quant = ops.count("Quant") ? ops.at("Quant") : 0;
    const int bipolar = ops.count("BipolarQuant") ? ops.at("BipolarQuant") : 0;
    EXPECT_EQ(quant, bits == 1 ? 1 : 18);
    EXPECT_EQ(bipolar, bits == 1 ? 17 : 0);
    // Input quantizer: INT8 non-narrow, scale 2^-7 after x/255*2-1.
    const auto* inq = find_node(model, "inp_quant");
    ASSERT_NE(inq, nullptr);
    EXPECT_EQ(scalar_value(model, inq->input(1)), 1.0F / 128.0F);
    EXPECT_EQ(scalar_value(model, inq->input(3)), 8.0F);
    EXPECT_EQ(find_attr(*inq, "narrow")->i(), 0);
    EXPECT_EQ(find_attr(*inq, "signed")->i(), 1);
    for (int i = 0; i < 6; ++i) {
      const auto* conv = find_node(model, "conv" + std::to_string(i));
      ASSERT_NE(conv, nullptr);
      EXPECT_EQ(conv->input_size(), 2) << "no bias";
      const auto pads = find_attr(*conv, "pads")->ints();
      EXPECT_EQ(std::vector<int64_t>(pads.begin(), pads.end()), (std::vector<int64_t>{0, 0, 0, 0}));
      EXPECT_FLOAT_EQ(find_attr(*find_node(model, "conv" + std::to_string(i) + "_bn"), "epsilon")->f(), 1e-4F);
      const auto* act = find_node(model, "conv" + std::to_string(i) + "_act");
      ASSERT_NE(act, nullptr);
      EXPECT_EQ(act->op_type(), bits == 1 ? "BipolarQuant" : "Quant");
      EXPECT_EQ(scalar_value(model, act->input(1)), 1.0F);
      if (bits == 2) {
        EXPECT_EQ(scalar_value(model, act->input(3)), 2.0F);
        EXPECT_EQ(find_attr(*act, "narrow")->i(), 1);
      }
    }
    // Pools follow conv1 and conv3.
    EXPECT_EQ(find_node(model, "pool0")->input(0), "conv1_act_out");
    EXPECT_EQ(find_node(model, "pool1")->input(0), "conv3_act_out");
    // TensorNorm folded to scalar Mul + Add on the logits.
    EXPECT_EQ(find_node(model, "tnorm_mul")->input(0), "fc2_out");
    EXPECT_EQ(find_node(model, "tnorm_add")->output(0), model.graph().output(0).name());
    // low-bit-cpu.md section 1: 1,728 + 36,864 + 73,728 + 147,456 + 294,912 + 589,824 (convs)
    // + 131,072 + 262,144 + 5,120 (FC) weights.
    EXPECT_EQ(test::weight_elements(model), 1542848);
  }
}

TEST(ZooStructure, MobileNetMatchesBrevitasTopology) {
  const auto model = parse_model(zoo_build("mobilenetv1-w4a4", 1));
  const auto ops = op_counts(model);
  EXPECT_EQ(ops.at("Conv"), 27);
  EXPECT_EQ(ops.at("BatchNormalization"), 27);
  EXPECT_EQ(ops.at("Relu"), 27);
  EXPECT_EQ(ops.at("Quant"), 27 + 27 + 1);  // activation + conv weight quantizers + FC weights
  EXPECT_EQ(ops.at("Trunc"), 1);
  int depthwise = 0;
  for (const auto& node : model.graph().node()) {
    if (node.op_type() == "Conv" && find_attr(node, "group")->i() > 1) ++depthwise;
  }
  EXPECT_EQ(depthwise, 13);
  // Init block: 8-bit per-channel weights, stride 2, no padding.
  const auto* wq0 = find_node(model, "conv0_wq");
  EXPECT_EQ(scalar_value(model, wq0->input(3)), 8.0F);
  EXPECT_EQ(find_initializer(model, wq0->input(1))->dims_size(), 4);
  EXPECT_EQ(find_initializer(model, wq0->input(1))->dims(0), 32);
  EXPECT_EQ(find_attr(*find_node(model, "conv0"), "strides")->ints(0), 2);
  EXPECT_EQ(find_attr(*find_node(model, "conv0"), "pads")->ints(0), 0);
  // Activation scales: per channel except depthwise outputs and the last stage's pointwise.
  EXPECT_EQ(find_initializer(model, find_node(model, "conv0_act")->input(1))->dims_size(), 4);
  EXPECT_EQ(find_initializer(model, find_node(model, "b1_dw_act")->input(1))->dims_size(), 0);
  EXPECT_EQ(find_initializer(model, find_node(model, "b11_pw_act")->input(1))->dims(1), 512);
  EXPECT_EQ(find_initializer(model, find_node(model, "b12_pw_act")->input(1))->dims_size(), 0);
  EXPECT_EQ(find_initializer(model, find_node(model, "b13_pw_act")->input(1))->dims_size(), 0);
  // Stride 2 on the first block of stages 2..5.
  for (int block : {2, 4, 6, 12}) {
    EXPECT_EQ(find_attr(*find_node(model, "b" + std::to_string(block) + "_dw"), "strides")->ints(0), 2) << block;
  }
  // TruncAvgPool2d: AveragePool 7 -> Mul 49 -> Trunc 10 -> 4 bits FLOOR with the input's scale,
  // the pattern FINN's AvgPoolAndTruncToQuantAvgPool expects (ibits = floor(log2(2^10/49 - 1)) = 4).
  EXPECT_EQ(find_attr(*find_node(model, "pool"), "kernel_shape")->ints(0), 7);
  EXPECT_EQ(scalar_value(model, find_node(model, "pool_mul")->input(1)), 49.0F);
  const auto* trunc = find_node(model, "pool_trunc");
  EXPECT_EQ(trunc->input_size(), 5);
  EXPECT_EQ(scalar_value(model, trunc->input(3)), 10.0F);
  EXPECT_EQ(scalar_value(model, trunc->input(4)), 4.0F);
  EXPECT_EQ(find_attr(*trunc, "rounding_mode")->s(), "FLOOR");
  EXPECT_EQ(scalar_value(model, trunc->input(1)), scalar_value(model, find_node(model, "b13_pw_act")->input(1)));
  // finn-facts (b): 4,209,088 weights.
  EXPECT_EQ(test::weight_elements(model), 4209088);
  EXPECT_EQ(model.graph().output(0).type().tensor_type().shape().dim(1).dim_value(), 1000);
}

TEST(ZooStructure, ResNetIsADagWithProjectionShortcuts) {
  const auto model = parse_model(zoo_build("resnet8-w4a4", 1));
  const auto ops = op_counts(model);
  EXPECT_EQ(ops.at("Conv"), 9);  // stem + 3 x 2 + 2 projections
  EXPECT_EQ(ops.at("Add"), 3 + 1);  // 3 joins + the FC bias
  // The stem's activation feeds both s1_conv_a and the s1_add shortcut.
  int readers = 0;
  for (const auto& node : model.graph().node()) {
    for (const auto& in : node.input()) readers += in == "stem_act_out" ? 1 : 0;
  }
  EXPECT_EQ(readers, 2);
  EXPECT_EQ(find_node(model, "s1_add")->input(1), "stem_act_out");
  EXPECT_EQ(find_node(model, "s2_add")->input(1), "s2_proj_bn_out");
  EXPECT_EQ(find_node(model, "s3_add")->input(1), "s3_proj_bn_out");
  EXPECT_EQ(find_node(model, "s2_proj")->input(0), "s1_act_out");
  // 432 + 2 x 2,304 + (4,608 + 9,216 + 512) + (18,432 + 36,864 + 2,048) + 640.
  EXPECT_EQ(test::weight_elements(model), 77360);
}

// Our TFC against the QONNX model zoo's Brevitas export of the same network.
TEST(ZooStructure, TfcMirrorsTheQonnxZooExport) {
  const std::string path = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/qonnx-zoo/TFC_2W2A.onnx";
  onnx::ModelProto reference;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) GTEST_SKIP() << "fixtures not found at " << path;
    ASSERT_TRUE(reference.ParseFromIstream(&in));
  }
  const auto ours = parse_model(zoo_build("tfc-w2a2", 1));
  const auto ref_ops = op_counts(reference);
  const auto our_ops = op_counts(ours);
  for (const char* op : {"MatMul", "BatchNormalization", "Quant", "Mul", "Sub"}) {
    EXPECT_EQ(our_ops.count(op) ? our_ops.at(op) : 0, ref_ops.at(op)) << op;
  }
  // The same quantizers in the same order: 2-bit signed narrow, scale 1, zero point 0.
  std::vector<std::string> ref_quant, our_quant;
  auto describe = [](const onnx::ModelProto& m, const onnx::NodeProto& n) {
    return std::to_string(scalar_value(m, n.input(1))) + "/" + std::to_string(scalar_value(m, n.input(2))) + "/" +
           std::to_string(scalar_value(m, n.input(3))) + "/s" + std::to_string(find_attr(n, "signed")->i()) +
           "/n" + std::to_string(find_attr(n, "narrow")->i());
  };
  for (const auto& n : reference.graph().node()) if (n.op_type() == "Quant") ref_quant.push_back(describe(reference, n));
  for (const auto& n : ours.graph().node()) if (n.op_type() == "Quant") our_quant.push_back(describe(ours, n));
  EXPECT_EQ(our_quant, ref_quant);
  EXPECT_EQ(test::weight_elements(ours), 784 * 64 + 64 * 64 + 64 * 64 + 64 * 10);
}

}  // namespace
}  // namespace dnnsplit
