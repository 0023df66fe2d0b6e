// Listens on PostgreSQL for committed changes (channels 'case_changed' from the case tables'
// trigger and 'forecast_changed' from the milestone and dialogue tables) on a dedicated
// connection, and hands them to the engine. On a lost connection it reconnects with back-off
// and asks the engine to reload every centre, since notifications may have been missed.
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

  // Applies one notification payload (JSON); malformed ones are logged and ignored.
  // Thread-safe.
  static void Dispatch(const std::string& channel, const std::string& payload,
                       ForecastEngine& engine);

 private:
  struct Listening;
  void Loop();

  const std::string conninfo_;
  std::unique_ptr<Listening> initial_;  // the connection Start() made, handed to the thread
  ForecastEngine& engine_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CHANGE_LISTENER_H_
