// GET /metrics for the admin listener: the registry's exposition text, never cached (a cached
// scrape would repeat old counter values). Mounted through the admin app's seam, which guards
// it (admin users, or no login with `admin.metrics: public`).

import { Router } from '@koa/router';
import type { Metrics } from './metrics.js';

export function metricsRouter<S>(metrics: Metrics): Router<S> {
  const router = new Router<S>();
  router.get('/metrics', async (ctx) => {
    const text = await metrics.text();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = text;
  });
  return router;
}
