/** Tests use the local stack's Redis supervisor (local/supervisor/redis.ts). */
export { type RunningRedis as TestRedis, startRedis } from "../../local/supervisor/redis.ts";
