// The board of a node: one loaded stage at a time. Streams and LoadStage calls take a ticket
// when they arrive and are granted the board in ticket order; streams of the stage that is
// loaded share it, a different stage waits until every user has released the board and then
// reloads it. Granting in arrival order is what keeps time-shared chains deadlock-free: the
// orchestrator opens rounds one after another, so every node sees (round, position) in order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace dnnsplit::node {

class Device {
 public:
  struct Grant {
    bool already_loaded = false;  // the stage was loaded: no reconfiguration happened
  };

  // Registers a request for `sha256`; returns its ticket.
  uint64_t enqueue(const std::string& sha256);
  // Blocks until the ticket's turn. When the board holds another stage, calls `reload` (which
  // reconfigures; it may throw, then the ticket is dropped and the exception passes through).
  // Returns false (ticket dropped) when `abandon` turns true while waiting.
  bool acquire(uint64_t ticket, const std::string& sha256, const std::function<void()>& reload,
               const std::function<bool()>& abandon, Grant& grant);
  // Gives the board back (after a granted acquire).
  void release();
  // Drops a ticket that never acquired (a stream that failed before its turn).
  void cancel(uint64_t ticket);

  std::string loaded() const;
  // Wakes waiters so they re-check their abandon condition.
  void poke();

 private:
  bool grantable(uint64_t ticket, const std::string& sha256) const;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<uint64_t, std::string>> queue_;
  uint64_t next_ticket_ = 0;
  std::string loaded_;
  int users_ = 0;
  bool loading_ = false;
};

}  // namespace dnnsplit::node
