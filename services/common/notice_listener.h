// LISTENs on one PostgreSQL channel on a dedicated connection and hands every notice's payload to
// a handler, on the listener's own thread. After a lost connection it reconnects with back-off
// and calls `on_reconnect` (notices may have been missed meanwhile).
#ifndef SERVICES_COMMON_NOTICE_LISTENER_H_
#define SERVICES_COMMON_NOTICE_LISTENER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace forecast {

class NoticeListener {
 public:
  using Handler = std::function<void(const std::string& payload)>;

  // Does not connect yet. The handlers run on the listener's thread and must be thread-safe
  // with respect to the rest of the program.
  NoticeListener(std::string conninfo, std::string channel, Handler on_notice,
                 std::function<void()> on_reconnect);
  // Stops the thread.
  ~NoticeListener();
  NoticeListener(const NoticeListener&) = delete;
  NoticeListener& operator=(const NoticeListener&) = delete;

  // Connects and LISTENs, then starts the thread. UNAVAILABLE when the first connection fails
  // (later failures are retried). Call once.
  absl::Status Start();

 private:
  struct Listening;
  void Loop();

  const std::string conninfo_;
  const std::string channel_;
  const Handler on_notice_;
  const std::function<void()> on_reconnect_;
  std::unique_ptr<Listening> initial_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace forecast

#endif  // SERVICES_COMMON_NOTICE_LISTENER_H_
