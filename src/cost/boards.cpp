// The board catalog: parsing boards.json documents (built-in and user files) into Board entries.
#include "dnnsplit/boards.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "boards_json.h"
#include "dnnsplit/error.h"

namespace dnnsplit {

namespace {

using json = nlohmann::json;

bool is_versal(const std::string& part) {
  // util/basic.py is_versal
  const std::string p4 = part.substr(0, 4);
  const std::string p5 = part.substr(0, 5);
  return p4 == "xcvc" || p4 == "xcve" || p4 == "xcvp" || p4 == "xcvm" || p4 == "xqvc" || p4 == "xqvm" ||
         p5 == "xqrvc" || p5 == "xcv80";
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

class BoardReader {
 public:
  BoardReader(const json& entry, std::string where) : entry_(entry), where_(std::move(where)) {}

  const json& field(const char* key) const {
    check(entry_.contains(key), where_ + ": missing field '" + key + "'");
    return entry_.at(key);
  }
  std::string text(const char* key) const {
    const json& v = field(key);
    check(v.is_string(), where_ + ": field '" + key + "' must be a string");
    return v.get<std::string>();
  }
  int64_t count(const char* key) const {
    const json& v = field(key);
    check(v.is_number_integer() && v.get<int64_t>() >= 0,
          where_ + ": field '" + key + "' must be a non-negative integer");
    return v.get<int64_t>();
  }
  double positive(const char* key) const {
    const json& v = field(key);
    check(v.is_number() && v.get<double>() > 0.0, where_ + ": field '" + key + "' must be a positive number");
    return v.get<double>();
  }
  double non_negative(const char* key) const {
    const json& v = field(key);
    check(v.is_number() && v.get<double>() >= 0.0, where_ + ": field '" + key + "' must be a number >= 0");
    return v.get<double>();
  }
  UsableFraction usable() const {
    UsableFraction u;
    if (!entry_.contains("usable")) return u;
    const json& v = entry_.at("usable");
    check(v.is_object(), where_ + ": field 'usable' must be an object");
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      double* slot = k == "lut"      ? &u.lut
                     : k == "ff"     ? &u.ff
                     : k == "lutram" ? &u.lutram
                     : k == "bram18" ? &u.bram18
                     : k == "uram"   ? &u.uram
                     : k == "dsp"    ? &u.dsp
                                     : nullptr;
      check(slot != nullptr,
            where_ + ": 'usable' has unknown resource '" + k + "' (known: lut, ff, lutram, bram18, uram, dsp)");
      check(it->is_number() && it->get<double>() > 0.0 && it->get<double>() <= 1.0,
            where_ + ": usable fraction of '" + k + "' must be in (0, 1]");
      *slot = it->get<double>();
    }
    return u;
  }

 private:
  const json& entry_;
  std::string where_;
};

Board parse_board(const json& entry, const std::string& where) {
  check(entry.is_object(), where + ": must be an object");
  BoardReader r(entry, where);
  Board b;
  b.name = r.text("name");
  const std::string named = where + " ('" + b.name + "')";
  check(valid_name(b.name), named + ": name must be short and lower-case (a-z, 0-9, '-', '_')");
  BoardReader rn(entry, named);
  b.display_name = entry.contains("display_name") ? rn.text("display_name") : b.name;
  b.part = rn.text("part");
  b.resources.lut = rn.count("lut");
  b.resources.ff = rn.count("ff");
  b.resources.lutram = rn.count("lutram");
  b.resources.bram18 = rn.count("bram18");
  b.resources.uram = rn.count("uram");
  b.resources.dsp = rn.count("dsp");
  b.usable = rn.usable();
  b.clock_mhz = rn.positive("clock_mhz");
  b.reconfig_ms = rn.non_negative("reconfig_ms");
  b.link_mbps = rn.positive("link_mbps");
  b.source = rn.text("source");
  return b;
}

}  // namespace

DspBlock dsp_block_of_part(const std::string& part) {
  if (is_versal(part)) return DspBlock::kDsp58;
  if (part.size() > 2 && part[2] == '7') return DspBlock::kDsp48E1;
  return DspBlock::kDsp48E2;
}

int dma_port_bits_of_part(const std::string& part) {
  if (part.rfind("xc7z", 0) == 0) return 64;
  if (part.rfind("xczu", 0) == 0 || part.rfind("xck", 0) == 0) return 128;
  return 512;
}

std::string dsp_block_name(DspBlock block) {
  switch (block) {
    case DspBlock::kDsp48E1: return "DSP48E1";
    case DspBlock::kDsp48E2: return "DSP48E2";
    case DspBlock::kDsp58: return "DSP58";
  }
  return "?";
}

std::string board_catalog_entry(const Board& b) {
  const nlohmann::ordered_json entry = {{"name", b.name},
                      {"display_name", b.display_name},
                      {"part", b.part},
                      {"lut", b.resources.lut},
                      {"ff", b.resources.ff},
                      {"lutram", b.resources.lutram},
                      {"bram18", b.resources.bram18},
                      {"uram", b.resources.uram},
                      {"dsp", b.resources.dsp},
                      {"usable",
                       {{"lut", b.usable.lut},
                        {"ff", b.usable.ff},
                        {"lutram", b.usable.lutram},
                        {"bram18", b.usable.bram18},
                        {"uram", b.usable.uram},
                        {"dsp", b.usable.dsp}}},
                      {"clock_mhz", b.clock_mhz},
                      {"reconfig_ms", b.reconfig_ms},
                      {"link_mbps", b.link_mbps},
                      {"source", b.source}};
  return entry.dump();
}

BoardCatalog BoardCatalog::builtin() {
  BoardCatalog catalog;
  catalog.add_json(detail::kBuiltinBoardsJson, "built-in boards.json");
  return catalog;
}

void BoardCatalog::add_json(const std::string& json_text, const std::string& source_name) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error("boards file " + source_name + ": not valid JSON: " + e.what());
  }
  check(doc.is_object() && doc.contains("boards") && doc.at("boards").is_array(),
        "boards file " + source_name + ": expected an object with a 'boards' array");
  std::vector<Board> parsed;
  const json& list = doc.at("boards");
  for (size_t i = 0; i < list.size(); ++i) {
    parsed.push_back(parse_board(list[i], "boards file " + source_name + ": board #" + std::to_string(i + 1)));
  }
  // All entries are checked before any is added, so a bad file changes nothing.
  for (auto& board : parsed) {
    auto it = std::find_if(boards_.begin(), boards_.end(), [&](const Board& b) { return b.name == board.name; });
    if (it != boards_.end()) {
      *it = std::move(board);
    } else {
      boards_.push_back(std::move(board));
    }
  }
}

void BoardCatalog::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "boards file " + path + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  add_json(text.str(), path);
}

const Board* BoardCatalog::find(const std::string& name) const {
  for (const auto& b : boards_) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const Board& BoardCatalog::get(const std::string& name) const {
  const Board* b = find(name);
  if (b == nullptr) {
    std::string known;
    for (const auto& board : boards_) known += (known.empty() ? "" : ", ") + board.name;
    throw Error("unknown board '" + name + "' (known boards: " + known + ")");
  }
  return *b;
}

}  // namespace dnnsplit
