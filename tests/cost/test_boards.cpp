// The board catalog: built-in figures against the data sheets / FINN platforms.py quoted in
// finn-facts.md (d), user files that add or override boards, and their error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "dnnsplit/boards.h"
#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"

namespace dnnsplit {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kExtraBoard = R"({"boards": [{
  "name": "tiny", "part": "xc7z010clg400-1", "lut": 17600, "ff": 35200, "lutram": 6000, "bram18": 120,
  "uram": 0, "dsp": 80, "clock_mhz": 100, "reconfig_ms": 100, "link_mbps": 100, "source": "DS190",
  "usable": {"lut": 0.9}}]})";

TEST(CostBoards, BuiltinCatalog) {
  const BoardCatalog catalog = BoardCatalog::builtin();
  std::vector<std::string> names;
  for (const auto& b : catalog.boards()) {
    names.push_back(b.name);
    EXPECT_FALSE(b.source.empty()) << b.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"zedboard", "pynq-z1", "ultra96", "zcu104", "kv260", "u250", "u280"}));
  const Board& zed = catalog.get("zedboard");
  EXPECT_EQ(zed.resources.lut, 53200);
  EXPECT_EQ(zed.resources.bram18, 280);  // 140 BRAM36
  EXPECT_EQ(zed.resources.dsp, 220);
  EXPECT_EQ(zed.resources.uram, 0);
  EXPECT_DOUBLE_EQ(zed.reconfig_ms, 229.8);
  EXPECT_DOUBLE_EQ(zed.link_mbps, 100.0);
  EXPECT_DOUBLE_EQ(zed.usable.lut, 0.7);  // FINN DEFAULT_RES_LIMITS
  EXPECT_DOUBLE_EQ(zed.usable.ff, 0.5);
  EXPECT_DOUBLE_EQ(zed.usable.bram18, 0.8);
  EXPECT_EQ(zed.dsp_block(), DspBlock::kDsp48E1);
  EXPECT_EQ(catalog.get("pynq-z1").resources.bram18, 280);
  EXPECT_EQ(catalog.get("ultra96").resources.bram18, 432);
  EXPECT_EQ(catalog.get("zcu104").resources.uram, 96);
  EXPECT_EQ(catalog.get("zcu104").dsp_block(), DspBlock::kDsp48E2);
  EXPECT_EQ(catalog.get("kv260").resources.bram18, 288);  // not 144: that is the BRAM36 count
  EXPECT_EQ(catalog.get("u250").resources.lut, 4 * 375000);
  EXPECT_EQ(catalog.get("u280").resources.dsp, 2736 + 2880 + 2880);
  EXPECT_EQ(dsp_block_of_part("xcvc1902-vsva2197-2MP-e-S"), DspBlock::kDsp58);
}

TEST(CostBoards, UserFileAddsAndOverrides) {
  BoardCatalog catalog = BoardCatalog::builtin();
  catalog.add_json(kExtraBoard, "extra.json");
  const Board& tiny = catalog.get("tiny");
  EXPECT_EQ(tiny.resources.bram18, 120);
  EXPECT_DOUBLE_EQ(tiny.usable.lut, 0.9);
  EXPECT_DOUBLE_EQ(tiny.usable.dsp, 0.8);  // not given: FINN's default
  EXPECT_EQ(tiny.display_name, "tiny");
  std::string overriding = kExtraBoard;
  overriding.replace(overriding.find("\"tiny\""), 6, "\"zedboard\"");
  catalog.add_json(overriding, "override.json");
  EXPECT_EQ(catalog.get("zedboard").resources.lut, 17600);
  EXPECT_EQ(catalog.boards().size(), 8u);
}

TEST(CostBoards, ErrorsNameFileBoardAndField) {
  BoardCatalog catalog = BoardCatalog::builtin();
  std::string no_dsp = kExtraBoard;
  no_dsp.replace(no_dsp.find("\"dsp\": 80, "), 11, "");
  std::string msg = error_of([&] { catalog.add_json(no_dsp, "b.json"); });
  EXPECT_NE(msg.find("boards file b.json: board #1 ('tiny'): missing field 'dsp'"), std::string::npos) << msg;
  EXPECT_EQ(catalog.find("tiny"), nullptr);  // nothing added from a bad file
  std::string bad_usable = kExtraBoard;
  bad_usable.replace(bad_usable.find("0.9"), 3, "1.5");
  msg = error_of([&] { catalog.add_json(bad_usable, "b.json"); });
  EXPECT_NE(msg.find("usable fraction of 'lut' must be in (0, 1]"), std::string::npos) << msg;
  std::string negative = kExtraBoard;
  negative.replace(negative.find("17600"), 5, "-1");
  msg = error_of([&] { catalog.add_json(negative, "b.json"); });
  EXPECT_NE(msg.find("field 'lut' must be a non-negative integer"), std::string::npos) << msg;
  std::string upper = kExtraBoard;
  upper.replace(upper.find("\"tiny\""), 6, "\"Tiny\"");
  msg = error_of([&] { catalog.add_json(upper, "b.json"); });
  EXPECT_NE(msg.find("short and lower-case"), std::string::npos) << msg;
  msg = error_of([&] { catalog.add_json("{\"boards\": 3}", "b.json"); });
  EXPECT_NE(msg.find("expected an object with a 'boards' array"), std::string::npos) << msg;
  msg = error_of([&] { catalog.add_json("{", "b.json"); });
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
  msg = error_of([&] { catalog.add_file("/nonexistent/boards.json"); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  msg = error_of([&] { catalog.get("zedbord"); });
  EXPECT_NE(msg.find("unknown board 'zedbord' (known boards: zedboard, pynq-z1"), std::string::npos) << msg;
}

TEST(CostBoards, FitAgainstUsableFraction) {
  const Board zed = BoardCatalog::builtin().get("zedboard");
  cost::Resources r;
  r.lut = 37239;   // just under 70 % of 53,200
  r.bram18 = 225;  // 80.36 % of 280 > 80 %
  auto fits = cost::fit_on_board(r, zed);
  EXPECT_TRUE(fits[0].fits());
  EXPECT_NEAR(fits[0].percent(), 100.0 * 37239 / 53200, 1e-9);
  EXPECT_FALSE(fits[2].fits());
  EXPECT_FALSE(cost::fits_on_board(r, zed));
  r.bram18 = 223;  // 79.6 %
  EXPECT_TRUE(cost::fits_on_board(r, zed));
  r.uram = 1;  // a Zynq-7020 has none
  EXPECT_FALSE(cost::fits_on_board(r, zed));
  EXPECT_TRUE(std::isinf(cost::fit_on_board(r, zed)[3].percent()));
}

// board_catalog_entry writes what add_json reads: every built-in board survives the round trip.
TEST(CostBoards, BoardToJsonRoundTrips) {
  const BoardCatalog builtin = BoardCatalog::builtin();
  for (Board b : builtin.boards()) {
    b.name += "-copy";
    b.usable.bram18 = 1.0;
    BoardCatalog catalog;
    catalog.add_json(R"({"boards": [)" + board_catalog_entry(b) + "]}", "copy");
    const Board& back = catalog.get(b.name);
    EXPECT_EQ(back.display_name, b.display_name);
    EXPECT_EQ(back.part, b.part);
    EXPECT_EQ(back.resources.lut, b.resources.lut);
    EXPECT_EQ(back.resources.ff, b.resources.ff);
    EXPECT_EQ(back.resources.lutram, b.resources.lutram);
    EXPECT_EQ(back.resources.bram18, b.resources.bram18);
    EXPECT_EQ(back.resources.uram, b.resources.uram);
    EXPECT_EQ(back.resources.dsp, b.resources.dsp);
    EXPECT_EQ(back.usable.lut, b.usable.lut);
    EXPECT_EQ(back.usable.bram18, 1.0);
    EXPECT_EQ(back.clock_mhz, b.clock_mhz);
    EXPECT_EQ(back.reconfig_ms, b.reconfig_ms);
    EXPECT_EQ(back.link_mbps, b.link_mbps);
    EXPECT_EQ(back.source, b.source);
  }
}

// FINN's DMA port widths (util/basic.py pynq_native_port_width; InsertIODMA(512) for Alveo).
TEST(CostBoards, DmaPortWidthFollowsThePartFamily) {
  const BoardCatalog catalog = BoardCatalog::builtin();
  EXPECT_EQ(catalog.get("zedboard").dma_port_bits(), 64);
  EXPECT_EQ(catalog.get("pynq-z1").dma_port_bits(), 64);
  EXPECT_EQ(catalog.get("ultra96").dma_port_bits(), 128);
  EXPECT_EQ(catalog.get("zcu104").dma_port_bits(), 128);
  EXPECT_EQ(catalog.get("kv260").dma_port_bits(), 128);
  EXPECT_EQ(catalog.get("u250").dma_port_bits(), 512);
}

}  // namespace
}  // namespace dnnsplit
