#include "device.h"

#include <algorithm>

namespace dnnsplit::node {

uint64_t Device::enqueue(const std::string& sha256) {
  std::lock_guard lock(mutex_);
  const uint64_t ticket = next_ticket_++;
  queue_.emplace_back(ticket, sha256);
  return ticket;
}

bool Device::grantable(uint64_t ticket, const std::string& sha256) const {
  if (queue_.empty() || queue_.front().first != ticket) return false;
  if (users_ == 0) return true;
  return loaded_ == sha256 && !loading_;  // join the users of the loaded stage
}

bool Device::acquire(uint64_t ticket, const std::string& sha256, const std::function<void()>& reload,
                     const std::function<bool()>& abandon, Grant& grant) {
  std::unique_lock lock(mutex_);
  // Abandon is polled: it watches state (cancellation, deadlines) that does not notify us.
  while (!grantable(ticket, sha256)) {
    if (abandon()) {
      queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const auto& e) { return e.first == ticket; }),
                   queue_.end());
      changed_.notify_all();
      return false;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  queue_.pop_front();
  ++users_;
  grant.already_loaded = loaded_ == sha256;
  if (grant.already_loaded) {
    changed_.notify_all();  // the next ticket may share the stage too
    return true;
  }
  loading_ = true;
  loaded_.clear();
  lock.unlock();
  try {
    reload();
  } catch (...) {
    lock.lock();
    loading_ = false;
    --users_;
    changed_.notify_all();
    throw;
  }
  lock.lock();
  loading_ = false;
  loaded_ = sha256;
  changed_.notify_all();
  return true;
}

void Device::release() {
  std::lock_guard lock(mutex_);
  --users_;
  changed_.notify_all();
}

void Device::cancel(uint64_t ticket) {
  std::lock_guard lock(mutex_);
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const auto& e) { return e.first == ticket; }),
               queue_.end());
  changed_.notify_all();
}

std::string Device::loaded() const {
  std::lock_guard lock(mutex_);
  return loaded_;
}

void Device::poke() {
  std::lock_guard lock(mutex_);
  changed_.notify_all();
}

}  // namespace dnnsplit::node
