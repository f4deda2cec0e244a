// The board catalog: what each FPGA board offers (resources, usable fraction, fabric clock,
// reconfiguration time, link bandwidth). The built-in catalog is data/boards.json, embedded in
// the binary at build time; users add or override boards with a JSON file of the same format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnnsplit {

// The DSP primitive of a part decides the RTL MVAU DSP formula; URAM availability decides which
// memory primitives a threshold memory may use. Derived from the part name as FINN does
// (util/basic.py get_dsp_block): xc7... -> DSP48E1, Versal -> DSP58, otherwise DSP48E2.
enum class DspBlock : uint8_t { kDsp48E1, kDsp48E2, kDsp58 };
DspBlock dsp_block_of_part(const std::string& part);
std::string dsp_block_name(DspBlock block);
// Width in bits of the AXI port FINN's DMAs (InsertIODMA) use on a part: the native HP port of
// PYNQ boards (util/basic.py pynq_native_port_width: Zynq-7000 64, Zynq UltraScale+ 128), 512 in
// the Vitis (Alveo) flow. Weights in external memory arrive at most this wide per cycle.
int dma_port_bits_of_part(const std::string& part);

// Resource counts. BRAM is counted in RAMB18 units (a BRAM36 is two).
struct BoardResources {
  int64_t lut = 0;
  int64_t ff = 0;
  int64_t lutram = 0;  // LUTs usable as distributed memory (SLICEM)
  int64_t bram18 = 0;
  int64_t uram = 0;
  int64_t dsp = 0;
};

// Fraction of each resource a plan may fill. Defaults: FINN util/platforms.py
// DEFAULT_RES_LIMITS (LUT 0.7, FF 0.5, BRAM 0.8, URAM 0.8, DSP 0.8); LUTRAM follows LUT.
struct UsableFraction {
  double lut = 0.7;
  double ff = 0.5;
  double lutram = 0.7;
  double bram18 = 0.8;
  double uram = 0.8;
  double dsp = 0.8;
};

struct Board {
  std::string name;          // short lower-case command-line name: zedboard, pynq-z1, ...
  std::string display_name;  // human name
  std::string part;          // Vivado part name
  BoardResources resources;
  UsableFraction usable;
  double clock_mhz = 100.0;  // fabric clock the estimates are evaluated at
  double reconfig_ms = 0.0;  // full reconfiguration time
  double link_mbps = 100.0;  // board-to-board link bandwidth, Mbit/s
  std::string source;        // where the numbers come from (data sheet, FINN platforms.py, ...)

  DspBlock dsp_block() const { return dsp_block_of_part(part); }
  int dma_port_bits() const { return dma_port_bits_of_part(part); }
};

// One board as an entry of the boards.json format (a JSON object), as add_json reads it back.
std::string board_catalog_entry(const Board& board);

class BoardCatalog {
 public:
  // The catalog shipped with dnnsplit (data/boards.json, embedded at build time).
  static BoardCatalog builtin();

  // Adds the boards of a JSON document in the boards.json format; a board whose name exists
  // replaces it. Throws Error naming `source_name`, the board and the field for bad input.
  void add_json(const std::string& json_text, const std::string& source_name);
  void add_file(const std::string& path);

  // Throws Error listing the known names when `name` is unknown.
  const Board& get(const std::string& name) const;
  const Board* find(const std::string& name) const;
  const std::vector<Board>& boards() const { return boards_; }

 private:
  std::vector<Board> boards_;
};

}  // namespace dnnsplit
