// A worker serving the interop script through SSEEncoderStream, for the workerd interop test.
import { interopResponse } from "../../support/interop_events.ts";

export default {
  fetch(): Response {
    return interopResponse();
  },
};
