#include "services/common/notice_listener.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"

namespace forecast {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           const NoticeListener::Handler& handler)
      : pqxx::notification_receiver(conn, channel), handler_(handler) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { handler_(payload); }

 private:
  const NoticeListener::Handler& handler_;
};

}  // namespace

struct NoticeListener::Listening {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> receiver;
};

NoticeListener::NoticeListener(std::string conninfo, std::string channel, Handler on_notice,
                               std::function<void()> on_reconnect)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      on_notice_(std::move(on_notice)),
      on_reconnect_(std::move(on_reconnect)) {}

NoticeListener::~NoticeListener() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

absl::Status NoticeListener::Start() {
  try {
    initial_ = std::make_unique<Listening>();
    initial_->conn = std::make_unique<pqxx::connection>(conninfo_);
    initial_->receiver = std::make_unique<Receiver>(*initial_->conn, channel_, on_notice_);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("listening on ", channel_, ": ", e.what()));
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void NoticeListener::Loop() {
  int failures = 0;
  std::unique_ptr<Listening> l = std::move(initial_);
  while (!stopping_) {
    try {
      if (l == nullptr) {
        l = std::make_unique<Listening>();
        l->conn = std::make_unique<pqxx::connection>(conninfo_);
        l->receiver = std::make_unique<Receiver>(*l->conn, channel_, on_notice_);
        if (on_reconnect_) on_reconnect_();
      }
      failures = 0;
      while (!stopping_) {
        l->conn->await_notification(0, 200000);  // wakes every 200 ms to check for shutdown
        if (!l->conn->is_open()) throw pqxx::broken_connection("listening connection closed");
      }
    } catch (const std::exception& e) {
      l.reset();
      if (stopping_) break;
      ++failures;
      std::fprintf(stderr, "notice listener (%s): %s (retrying)\n", channel_.c_str(), e.what());
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(5000, 100 * failures * failures)));
    }
  }
}

}  // namespace forecast
