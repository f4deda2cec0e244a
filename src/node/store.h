// The node's stage store: stage files in one directory, named by their sha256. The node never
// writes outside this directory: every path is <dir>/<64 hex digits>.<ext> or a temporary file
// of an upload in progress (<dir>/.upload-<n>.part).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dnnsplit/error.h"
#include "dnnsplit/ir.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::node {

// An upload that crosses the node's size limit (RESOURCE_EXHAUSTED, not INVALID_ARGUMENT).
class LimitError : public Error {
 public:
  using Error::Error;
};

struct StoredStage {
  std::string sha256;
  uint64_t size_bytes = 0;
  std::string name;
};

class StageStore {
 public:
  // Creates the directory when missing (not its parents); removes leftovers of interrupted
  // uploads. Throws Error naming the directory when it cannot be used.
  StageStore(const std::string& dir, int64_t max_stage_bytes);

  std::vector<StoredStage> list() const;
  bool contains(const std::string& sha256) const;
  int64_t max_stage_bytes() const { return max_stage_bytes_; }

  // The stage as a graph, imported once and cached. Throws Error when absent or invalid.
  std::shared_ptr<const ir::Graph> graph(const std::string& sha256);

  // One upload in progress: bytes go to a temporary file; commit() checks size and sha256,
  // parses the file as a model whose every node the engine runs, then renames it into place.
  // Destroying an uncommitted upload removes its temporary file.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    void append(std::string_view data);  // throws Error when the size limit is crossed
    // Returns true when the stage was already stored (the upload is then discarded).
    bool commit();
    const StoredStage& header() const { return header_; }

   private:
    friend class StageStore;
    Upload(StageStore& store, StoredStage header, std::filesystem::path temp);
    StageStore& store_;
    StoredStage header_;
    std::filesystem::path temp_;
    std::ofstream out_;
    uint64_t received_ = 0;
    wire::Sha256 sha_;
    bool done_ = false;
  };
  // Checks the header (sha256 format, declared size within the limit). Throws Error.
  std::unique_ptr<Upload> begin_upload(const StoredStage& header);

 private:
  std::filesystem::path file_of(const std::string& sha256, const char* ext) const;
  void add(const StoredStage& stage);

  std::filesystem::path dir_;
  int64_t max_stage_bytes_;
  mutable std::mutex mutex_;
  std::map<std::string, StoredStage> stages_;
  std::map<std::string, std::shared_ptr<const ir::Graph>> graphs_;
  uint64_t next_upload_ = 0;
};

// Imports a stage file's bytes and checks that the engine can run every node; throws Error
// naming `what` and the first node it cannot run.
ir::Graph import_stage_bytes(const std::string& bytes, const std::string& what);

}  // namespace dnnsplit::node
