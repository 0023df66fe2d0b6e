// Live figures: the forecast service pushes the team dashboard after every committed change to
// the team's cases (WatchTeamDashboard, as server-sent events through the gateway). Views
// subscribe while they are shown and refresh what they display on every push.
import { ApiError, call, subscribe } from './api';
import { LiveStatus } from './components';
import type { TeamDashboard } from './types';

export interface TeamWatch {
  status: LiveStatus;
  close: () => void;
}

/** Calls `onPush` with every pushed dashboard (the first arrives at once). `onFail` hears when the
 *  stream failed or cannot connect before the first dashboard came, so that a view waiting for it
 *  shows why instead of "Henter…" for ever. */
export function watchTeam(
  team: string,
  onPush: (dashboard: TeamDashboard, first: boolean) => void,
  onFail?: (error: ApiError) => void,
): TeamWatch {
  const status = new LiveStatus();
  let first = true;
  let lastRevision = '';
  const close = subscribe<TeamDashboard>(
    'ForecastService',
    'WatchTeamDashboard',
    { team },
    (dashboard) => {
      // A reconnect re-sends the current dashboard; only a new revision is news.
      if (!first && dashboard.revision === lastRevision) return;
      lastRevision = dashboard.revision;
      onPush(dashboard, first);
      first = false;
      status.updated(dashboard.revision);
    },
    (state, error) => {
      status.setState(state, error);
      if (!first) return;
      if (state === 'failed') onFail?.(error ?? new ApiError(0, 'UNAVAILABLE', ''));
      else if (state === 'reconnecting') void probe();
    },
  );
  // An event stream cannot read why it was refused; the same question asked once as a plain call
  // can ("Du har ikke adgang", "kan ikke nå serveren"). The stream keeps trying meanwhile.
  let probed = false;
  const probe = async () => {
    if (probed || !onFail) return;
    probed = true;
    try {
      const dashboard = await call<TeamDashboard>('ForecastService', 'GetTeamDashboard', { team });
      if (first) {
        lastRevision = dashboard.revision;
        onPush(dashboard, true);
        first = false;
      }
    } catch (error) {
      if (first) onFail(error instanceof ApiError ? error : new ApiError(0, 'UNREACHABLE', String(error)));
      if (error instanceof ApiError && !['UNAVAILABLE', 'UNREACHABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'].includes(error.code)) {
        close();
        status.setState('failed', error);
      }
    }
  };
  return { status, close };
}
