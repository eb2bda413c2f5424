export {
  StandInApiServer,
  startApiServer,
  type ApiServerOptions,
  type FailureRule,
  type ObjectChange,
  type RequestRecord,
} from './server';
export { OPTIONAL_GROUPS, type OptionalGroup } from './resource';
export type { Status, StatusCause } from './status';
export type { Json, JsonObject } from './types';
