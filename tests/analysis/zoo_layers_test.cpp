// analyze_layers on the zoo's models and a real FINN file, against the hand-checked per-layer
// figures of finn-facts.md (b) and low-bit-cpu.md section 1.
#include <gtest/gtest.h>

#include <filesystem>

#include "dnnsplit/analysis.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit {
namespace {

std::vector<LayerRow> layers_of(const std::string& zoo_name, ir::Graph* keep = nullptr) {
  ir::Graph graph = import_model_from_bytes(zoo_build(zoo_name, 1), zoo_name + ".onnx");
  auto rows = analyze_layers(graph);
  if (keep) *keep = std::move(graph);
  return rows;
}

template <typename T, typename F>
std::vector<T> column(const std::vector<LayerRow>& rows, F f) {
  std::vector<T> values;
  for (const auto& r : rows) values.push_back(f(r));
  return values;
}

const LayerRow& row_named(const std::vector<LayerRow>& rows, const std::string& name) {
  for (const auto& r : rows) {
    if (r.name == name) return r;
  }
  throw std::runtime_error("no layer " + name);
}

TEST(ZooLayers, CnvW2A2MatchesTheHandCheckedTable) {
  const auto rows = layers_of("cnv-w2a2");
  EXPECT_EQ(column<std::string>(rows, [](const LayerRow& r) { return r.name; }),
            (std::vector<std::string>{"inp_quant", "conv0", "conv1", "pool0", "conv2", "conv3", "pool1", "conv4",
                                      "conv5", "fc0", "fc1", "fc2"}));
  // finn-facts (b) boundary table; fc2 hands on 10 float logits.
  EXPECT_EQ(column<int64_t>(rows, [](const LayerRow& r) { return r.output_bytes; }),
            (std::vector<int64_t>{3072, 14400, 12544, 3136, 4608, 3200, 800, 576, 64, 128, 128, 40}));
  // low-bit-cpu.md section 1.
  EXPECT_EQ(column<int64_t>(rows, [](const LayerRow& r) { return r.macs; }),
            (std::vector<int64_t>{0, 1555200, 28901376, 0, 10616832, 14745600, 0, 2654208, 589824, 131072, 262144,
                                  5120}));
  EXPECT_EQ(column<int64_t>(rows, [](const LayerRow& r) { return r.params; }),
            (std::vector<int64_t>{0, 1728, 36864, 0, 73728, 147456, 0, 294912, 589824, 131072, 262144, 5120}));
  EXPECT_EQ(rows[0].act_type, "INT8");
  EXPECT_EQ(rows[1].weight_type, "INT2");
  EXPECT_EQ(rows[1].act_type, "INT2");
  EXPECT_EQ(rows[1].output_shape, (Shape{1, 64, 30, 30}));
  EXPECT_EQ(rows[11].act_type, "FLOAT32");
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 1542848);
  EXPECT_EQ(total.macs, 59461376);
  EXPECT_EQ(total.weight_bytes, 1542848 / 4);
}

TEST(ZooLayers, CnvW1A1HalvesTheActivationBytes) {
  const auto rows = layers_of("cnv-w1a1");
  EXPECT_EQ(row_named(rows, "conv0").output_bytes, 7200);
  EXPECT_EQ(row_named(rows, "conv5").output_bytes, 32);
  EXPECT_EQ(row_named(rows, "conv5").weight_type, "BIPOLAR");
  EXPECT_EQ(row_named(rows, "conv5").act_type, "BIPOLAR");
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 1542848);
  EXPECT_EQ(total.macs, 59461376);
  EXPECT_EQ(total.weight_bytes, 1542848 / 8);
}

TEST(ZooLayers, TfcW2A2) {
  const auto rows = layers_of("tfc-w2a2");
  EXPECT_EQ(column<std::string>(rows, [](const LayerRow& r) { return r.name; }),
            (std::vector<std::string>{"inp_quant", "fc0", "fc1", "fc2", "fc3"}));
  EXPECT_EQ(column<int64_t>(rows, [](const LayerRow& r) { return r.output_bytes; }),
            (std::vector<int64_t>{784 * 2 / 8, 16, 16, 16, 40}));
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 784 * 64 + 2 * 64 * 64 + 64 * 10);
  EXPECT_EQ(total.macs, total.params);
}

TEST(ZooLayers, MobileNetV1MatchesTheHandCheckedTable) {
  const auto rows = layers_of("mobilenetv1-w4a4");
  ASSERT_EQ(rows.size(), 1U + 26U + 1U + 1U);  // conv0, 13 x (dw, pw), pool, fc
  EXPECT_EQ(rows.front().name, "conv0");       // the /255, mean and std ops are its preprocessing
  // finn-facts (b) boundary table (4-bit activations).
  EXPECT_EQ(row_named(rows, "conv0").output_bytes, 197136);
  EXPECT_EQ(row_named(rows, "b1_dw").output_bytes, 197136);
  EXPECT_EQ(row_named(rows, "b1_pw").output_bytes, 394272);
  EXPECT_EQ(row_named(rows, "b2_dw").output_bytes, 100352);
  EXPECT_EQ(row_named(rows, "b6_pw").output_bytes, 50176);
  EXPECT_EQ(row_named(rows, "b12_dw").output_bytes, 12544);
  EXPECT_EQ(row_named(rows, "b13_pw").output_bytes, 25088);
  EXPECT_EQ(row_named(rows, "pool").output_bytes, 512);
  EXPECT_EQ(row_named(rows, "fc").output_bytes, 4000);
  EXPECT_EQ(row_named(rows, "conv0").weight_type, "INT8");
  EXPECT_EQ(row_named(rows, "b1_dw").detail, "3x3 p1 g32");
  EXPECT_EQ(row_named(rows, "b2_dw").detail, "3x3 s2 p1 g64");
  // MACs: conv0 111^2 x 32 x 27; b1 dw 111^2 x 32 x 9 and pw 111^2 x 32 x 64.
  EXPECT_EQ(row_named(rows, "conv0").macs, 111 * 111 * 32 * 27);
  EXPECT_EQ(row_named(rows, "b1_dw").macs, 111 * 111 * 32 * 9);
  EXPECT_EQ(row_named(rows, "b1_pw").macs, 111 * 111 * 32 * 64);
  EXPECT_EQ(row_named(rows, "fc").macs, 1024 * 1000);
  // Totals: 4,209,088 weights (finn-facts b). MACs by the layer formula with the 111x111 first
  // feature map of the unpadded init conv; the often-quoted 568.7 M assumes padding 1 (112x112).
  const int64_t dw_channels = 32 + 64 + 128 + 128 + 256 + 256 + 5 * 512 + 512 + 1024;
  const int64_t expected_macs = int64_t{111} * 111 * 32 * 27                     // conv0
                                + int64_t{111} * 111 * 32 * (9 + 64)              // b1
                                + int64_t{56} * 56 * 64 * 9 + 56 * 56 * 64 * 128  // b2
                                + int64_t{56} * 56 * 128 * (9 + 128)              // b3
                                + int64_t{28} * 28 * 128 * 9 + 28 * 28 * 128 * 256  // b4
                                + int64_t{28} * 28 * 256 * (9 + 256)              // b5
                                + int64_t{14} * 14 * 256 * 9 + 14 * 14 * 256 * 512  // b6
                                + int64_t{5} * 14 * 14 * 512 * (9 + 512)          // b7..b11
                                + int64_t{7} * 7 * 512 * 9 + 7 * 7 * 512 * 1024   // b12
                                + int64_t{7} * 7 * 1024 * (9 + 1024)              // b13
                                + 1024 * 1000;                                    // fc
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 4209088);
  EXPECT_EQ(total.params, 864 + 9 * dw_channels + 3139584 + 1024000);
  EXPECT_EQ(total.macs, expected_macs);
  EXPECT_EQ(total.macs, 568026752);
}

TEST(ZooLayers, ResNet8JoinsAreLayers) {
  ir::Graph graph;
  const auto rows = layers_of("resnet8-w4a4", &graph);
  EXPECT_EQ(column<std::string>(rows, [](const LayerRow& r) { return r.name; }),
            (std::vector<std::string>{"inp_quant", "stem", "s1_conv_a", "s1_conv_b", "s1_add", "s2_conv_a",
                                      "s2_conv_b", "s2_proj", "s2_add", "s3_conv_a", "s3_conv_b", "s3_proj",
                                      "s3_add", "pool", "fc"}));
  // The second conv of a block hands a float BatchNorm output to the join.
  EXPECT_EQ(row_named(rows, "s1_conv_b").act_type, "FLOAT32");
  EXPECT_EQ(row_named(rows, "s1_conv_b").output_bytes, 16 * 32 * 32 * 4);
  EXPECT_EQ(row_named(rows, "s1_add").act_type, "UINT4");
  EXPECT_EQ(row_named(rows, "s1_add").output_bytes, 16 * 32 * 32 / 2);
  EXPECT_EQ(row_named(rows, "s3_add").output_bytes, 64 * 8 * 8 / 2);
  EXPECT_EQ(row_named(rows, "pool").output_bytes, 32);
  EXPECT_EQ(row_named(rows, "s2_proj").detail, "1x1 s2");
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 432 + 2 * 2304 + (4608 + 9216 + 512) + (18432 + 36864 + 2048) + 640);
  EXPECT_EQ(total.macs, int64_t{32} * 32 * 16 * 27                                  // stem
                            + 2 * 32 * 32 * 16 * 144                                 // s1
                            + 16 * 16 * 32 * (144 + 288 + 16)                        // s2 a, b, proj
                            + 8 * 8 * 64 * (288 + 576 + 32)                          // s3 a, b, proj
                            + 640);                                                  // fc
  // Every node belongs to exactly one layer.
  std::vector<int> seen(graph.nodes.size(), 0);
  for (const auto& r : rows) {
    for (int i : r.nodes) ++seen[static_cast<size_t>(i)];
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(seen.size()));
}

// A real Brevitas export: dynamic flatten chain, Transpose behind every weight quantizer.
TEST(ZooLayers, QonnxZooTfc2W2AFile) {
  const std::string path = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/qonnx-zoo/TFC_2W2A.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  const auto rows = analyze_layers(import_model(path));
  EXPECT_EQ(column<std::string>(rows, [](const LayerRow& r) { return r.name; }),
            (std::vector<std::string>{"Quant_13", "MatMul_20", "MatMul_32", "MatMul_44", "MatMul_56"}));
  EXPECT_EQ(column<int64_t>(rows, [](const LayerRow& r) { return r.output_bytes; }),
            (std::vector<int64_t>{784 * 2 / 8, 16, 16, 16, 40}));
  EXPECT_EQ(row_named(rows, "MatMul_20").weight_type, "INT2");
  EXPECT_EQ(row_named(rows, "MatMul_20").detail, "784x64");
  EXPECT_EQ(layer_totals(rows).params, 784 * 64 + 2 * 64 * 64 + 64 * 10);
}

// FINN's own dialect: MultiThreshold activations, Squeeze/Unsqueeze around BatchNorm, TopK.
TEST(ZooLayers, FinnTfcW1A1File) {
  const std::string path = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/finn/tfc_w1a1_finn.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  const ir::Graph graph = import_model(path);
  const auto rows = analyze_layers(graph);
  EXPECT_EQ(column<std::string>(rows, [](const LayerRow& r) { return r.name; }),
            (std::vector<std::string>{"MultiThreshold_0", "MatMul_0", "MatMul_1", "MatMul_2", "MatMul_3", "TopK_0"}));
  EXPECT_EQ(row_named(rows, "MultiThreshold_0").output_bytes, 98);  // 784 bipolar values
  EXPECT_EQ(row_named(rows, "MatMul_0").act_type, "BIPOLAR");
  EXPECT_EQ(row_named(rows, "MatMul_0").output_bytes, 8);
  EXPECT_EQ(row_named(rows, "MatMul_0").weight_type, "BIPOLAR");
  EXPECT_EQ(row_named(rows, "MatMul_3").output_bytes, 40);
  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.params, 784 * 64 + 2 * 64 * 64 + 64 * 10);
  EXPECT_EQ(total.macs, total.params);
}

}  // namespace
}  // namespace dnnsplit
