// Server-sent event streams, shared: every browser watching the same thing in the same job centre
// (one WatchTeamDashboard request) is served by one upstream gRPC call, and all of them get the
// same pushes. The upstream call starts with the first watcher and is cancelled when the last one
// leaves. A later watcher is let in only after its own credential passed the unary counterpart
// of the method (GetTeamDashboard for WatchTeamDashboard); it then gets the newest push at once.
// Methods without such a counterpart get one upstream call per watcher.
#ifndef SERVICES_GATEWAY_STREAM_HUB_H_
#define SERVICES_GATEWAY_STREAM_HUB_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/exchange.h"
#include "services/gateway/rpc_transcoder.h"

namespace forecast::gateway {

struct StreamLimits {
  int per_session = 8;  // open event streams of one browser session
  int per_user = 24;    // open event streams of one staff member, all sessions
};

class StreamHub {
 public:
  // `transcoder` must outlive the hub.
  StreamHub(const RpcTranscoder& transcoder, StreamLimits limits);
  // Shuts down (see Shutdown) if that has not happened.
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Starts an event stream on `exchange` for the server-streaming `route` with the serialized
  // request. RESOURCE_EXHAUSTED (nothing started; answer 429) when the session or the staff
  // member has too many streams open; UNAVAILABLE when shutting down. Otherwise the exchange
  // has been started and gets the pushes; a failed call ends it with an `rpc-error` event.
  // Thread-safe.
  absl::Status Watch(const MethodRoute& route, const std::string& request, const Caller& caller,
                     const std::string& session_key, std::shared_ptr<Exchange> exchange);

  // Sends `final_frame` to every open stream and ends it, cancels every upstream call and waits
  // (up to 10 s) until gRPC has let go of them. New watches are refused afterwards. Thread-safe.
  void Shutdown(const std::string& final_frame);

  // Forgets every watcher without telling it (the transport is gone). Thread-safe.
  void Clear();

  // Open event streams / upstream calls. Thread-safe.
  size_t watchers();
  size_t upstream_calls();

 private:
  struct Channel {
    std::string key;
    MethodRoute route;
    std::shared_ptr<UpstreamCall> call;
    bool cancel_requested = false;
    bool finished = false;
    std::set<uint64_t> watchers;
    std::string last_frame;  // the newest push, for watchers who join later
  };
  struct Watcher {
    std::shared_ptr<Exchange> exchange;
    std::string session_key;
    std::string user_key;
    std::shared_ptr<Channel> channel;  // null until attached
  };

  // Attaches watcher `id` to the channel for `key`, starting one if none runs. Thread-safe.
  void Attach(uint64_t id, const std::string& key, const MethodRoute& route,
              const std::string& request, const Metadata& metadata);
  void StartUpstream(const std::shared_ptr<Channel>& channel, const std::string& request,
                     const Metadata& metadata);
  void OnMessage(const std::shared_ptr<Channel>& channel, const std::string& bytes);
  void OnDone(const std::shared_ptr<Channel>& channel, const absl::Status& status);
  void Leave(uint64_t id);

  const RpcTranscoder& transcoder_;
  const StreamLimits limits_;
  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int live_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_session_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_user_ ABSL_GUARDED_BY(mu_);
};

// "data: <json>\n\n", or with an "event: <name>" line first. `json` is one line. Thread-safe.
std::string SseFrame(const std::string& event, const std::string& json);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_STREAM_HUB_H_
