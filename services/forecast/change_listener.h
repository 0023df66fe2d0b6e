// Listens on PostgreSQL for committed changes on a dedicated connection and hands them to the
// engine: 'case_changed' (announced by the case service after its commits), 'reference_changed'
// and 'forecast_changed' (database triggers); services/common/case_change_notice.h has the
// payloads. On a lost connection it reconnects with back-off and catches up on the changes
// committed while it was cut off, by case event id and transaction id (Refresher::CatchUp), not
// by trusting that every notice arrived; a RESYNC notice (a case service started) does the same.
#ifndef SERVICES_FORECAST_CHANGE_LISTENER_H_
#define SERVICES_FORECAST_CHANGE_LISTENER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "services/forecast/forecast_engine.h"

namespace forecast::fsvc {

class ChangeListener {
 public:
  // Does not connect yet. `engine` must outlive the listener.
  ChangeListener(std::string conninfo, ForecastEngine& engine);
  // Stops the thread.
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Connects and LISTENs, then starts the listening thread. UNAVAILABLE when the first
  // connection fails (later failures are retried). Not thread-safe; call once.
  absl::Status Start();

  // Applies one notification payload (JSON); malformed ones are logged and ignored. A RESYNC
  // is only recorded here; the listening thread catches up. Thread-safe.
  void Dispatch(const std::string& channel, const std::string& payload);

  // Times the listening connection was made again, and cases queued by catching up. Thread-safe.
  int64_t reconnects() const { return reconnects_; }
  int64_t caught_up_cases() const { return caught_up_cases_; }

 private:
  struct Listening;
  void Loop();

  const std::string conninfo_;
  std::unique_ptr<Listening> initial_;  // the connection Start() made, handed to the thread
  ForecastEngine& engine_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> resync_requested_{false};
  std::atomic<int64_t> reconnects_{0}, caught_up_cases_{0};
  std::thread thread_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CHANGE_LISTENER_H_
