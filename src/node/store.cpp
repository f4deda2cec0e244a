#include "store.h"

#include <nlohmann/json.hpp>
#include <system_error>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"

namespace dnnsplit::node {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCachedGraphs = 64;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

ir::Graph import_stage_bytes(const std::string& bytes, const std::string& what) {
  ir::Graph graph = import_model_from_bytes(bytes, what);
  for (const auto& n : graph.nodes) {
    check(engine::supports(n), what + ": " + n.describe() + " cannot be run by the engine");
  }
  return graph;
}

StageStore::StageStore(const std::string& dir, int64_t max_stage_bytes)
    : dir_(dir), max_stage_bytes_(max_stage_bytes) {
  check(!dir.empty(), "node: --store needs a directory");
  check(max_stage_bytes > 0, "node: the stage size limit must be positive");
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    fs::create_directory(dir_, ec);
    check(!ec, "node: cannot create store directory " + dir + ": " + ec.message());
  }
  check(fs::is_directory(dir_, ec), "node: store " + dir + " is not a directory");
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(".upload-", 0) == 0) {
      fs::remove(entry.path(), ec);  // an upload interrupted by a crash
      continue;
    }
    if (entry.path().extension() != ".onnx") continue;
    const std::string sha = entry.path().stem().string();
    if (!wire::is_sha256_hex(sha)) continue;
    StoredStage stage{sha, static_cast<uint64_t>(entry.file_size(ec)), ""};
    const fs::path meta = file_of(sha, ".json");
    if (fs::exists(meta, ec)) {
      try {
        stage.name = nlohmann::json::parse(read_all(meta)).value("name", "");
      } catch (const std::exception&) {
        stage.name = "";  // a damaged sidecar only loses the informative name
      }
    }
    stages_[sha] = stage;
  }
  check(!ec, "node: cannot list store directory " + dir + ": " + ec.message());
}

fs::path StageStore::file_of(const std::string& sha256, const char* ext) const {
  check(wire::is_sha256_hex(sha256), "stage address '" + sha256 + "' is not a lower-case hex sha256");
  return dir_ / (sha256 + ext);
}

std::vector<StoredStage> StageStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<StoredStage> out;
  for (const auto& [sha, stage] : stages_) out.push_back(stage);
  return out;
}

bool StageStore::contains(const std::string& sha256) const {
  std::lock_guard lock(mutex_);
  return stages_.count(sha256) != 0;
}

std::shared_ptr<const ir::Graph> StageStore::graph(const std::string& sha256) {
  std::string name;
  {
    std::lock_guard lock(mutex_);
    auto cached = graphs_.find(sha256);
    if (cached != graphs_.end()) return cached->second;
    auto it = stages_.find(sha256);
    check(it != stages_.end(), "stage " + sha256.substr(0, 12) + " is not in the store; upload it first");
    name = it->second.name;
  }
  const std::string what = "stage " + sha256.substr(0, 12) + (name.empty() ? "" : " (" + name + ")");
  auto graph = std::make_shared<const ir::Graph>(import_stage_bytes(read_all(file_of(sha256, ".onnx")), what));
  std::lock_guard lock(mutex_);
  if (graphs_.size() >= kMaxCachedGraphs) graphs_.clear();
  graphs_[sha256] = graph;
  return graph;
}

void StageStore::add(const StoredStage& stage) {
  std::lock_guard lock(mutex_);
  stages_[stage.sha256] = stage;
}

std::unique_ptr<StageStore::Upload> StageStore::begin_upload(const StoredStage& header) {
  check(wire::is_sha256_hex(header.sha256),
        "upload: header sha256 '" + header.sha256 + "' is not 64 lower-case hex digits");
  check(header.size_bytes > 0, "upload of stage " + header.sha256.substr(0, 12) + ": declared size is 0");
  if (header.size_bytes > static_cast<uint64_t>(max_stage_bytes_)) {
    throw LimitError("upload of stage " + header.sha256.substr(0, 12) + ": " + std::to_string(header.size_bytes) +
                     " bytes exceed the node's stage limit of " + std::to_string(max_stage_bytes_) + " bytes");
  }
  uint64_t n = 0;
  {
    std::lock_guard lock(mutex_);
    n = next_upload_++;
  }
  const fs::path temp = dir_ / (".upload-" + std::to_string(n) + ".part");
  return std::unique_ptr<Upload>(new Upload(*this, header, temp));
}

StageStore::Upload::Upload(StageStore& store, StoredStage header, fs::path temp)
    : store_(store), header_(std::move(header)), temp_(std::move(temp)), out_(temp_, std::ios::binary | std::ios::trunc) {
  check(out_.good(), "upload of stage " + header_.sha256.substr(0, 12) + ": cannot write into the store");
}

StageStore::Upload::~Upload() {
  if (!done_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void StageStore::Upload::append(std::string_view data) {
  received_ += data.size();
  if (received_ > header_.size_bytes) {
    throw LimitError("upload of stage " + header_.sha256.substr(0, 12) + ": more than the declared " +
                     std::to_string(header_.size_bytes) + " bytes arrived");
  }
  sha_.update(data);
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  check(out_.good(), "upload of stage " + header_.sha256.substr(0, 12) + ": writing into the store failed");
}

bool StageStore::Upload::commit() {
  const std::string what = "upload of stage " + header_.sha256.substr(0, 12) +
                           (header_.name.empty() ? "" : " (" + header_.name + ")");
  check(received_ == header_.size_bytes, what + ": " + std::to_string(received_) + " bytes arrived, " +
                                             std::to_string(header_.size_bytes) + " declared");
  const std::string actual = sha_.finish_hex();
  check(actual == header_.sha256, what + ": sha256 of the received bytes is " + actual + ", not the declared " +
                                      header_.sha256);
  out_.close();
  check(!out_.fail(), what + ": writing into the store failed");
  if (store_.contains(header_.sha256)) return true;  // destructor removes the temporary file
  auto graph = std::make_shared<const ir::Graph>(import_stage_bytes(read_all(temp_), what));
  std::error_code ec;
  fs::rename(temp_, store_.file_of(header_.sha256, ".onnx"), ec);
  check(!ec, what + ": cannot move the file into the store: " + ec.message());
  done_ = true;
  nlohmann::json meta{{"name", header_.name}, {"size_bytes", header_.size_bytes}};
  std::ofstream(store_.file_of(header_.sha256, ".json"), std::ios::trunc) << meta.dump() << "\n";
  store_.add(header_);
  std::lock_guard lock(store_.mutex_);
  store_.graphs_[header_.sha256] = std::move(graph);
  return false;
}

}  // namespace dnnsplit::node
