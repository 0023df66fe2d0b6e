// Live figures: the forecast service pushes the team dashboard after every committed change to
// the team's cases (WatchTeamDashboard, as server-sent events through the gateway). Views
// subscribe while they are shown and refresh what they display on every push.
import { subscribe } from './api';
import { LiveStatus } from './components';
import type { TeamDashboard } from './types';

export interface TeamWatch {
  status: LiveStatus;
  close: () => void;
}

/** Calls `onPush` with every pushed dashboard (the first arrives at once). */
export function watchTeam(team: string, onPush: (dashboard: TeamDashboard, first: boolean) => void): TeamWatch {
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
    (state, error) => status.setState(state, error),
  );
  return { status, close };
}
