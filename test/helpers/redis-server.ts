/** Tests use the local stack's Redis supervisor (local/supervisor/redis.ts). */
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type RunningRedis, startRedis } from "../../local/supervisor/redis.ts";

export { type RunningRedis as TestRedis, startRedis } from "../../local/supervisor/redis.ts";

/**
 * One redis-server for the whole test file, emptied before every test; call at the top level.
 * Returns a getter (the server exists only once `beforeAll` ran).
 */
export function redisPerFile(): () => RunningRedis {
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  beforeEach(async () => {
    const client = new Redis(redis!.url);
    await client.flushall();
    client.disconnect();
  });
  return () => {
    if (redis === undefined) throw new Error("redisPerFile: the server starts in beforeAll");
    return redis;
  };
}
