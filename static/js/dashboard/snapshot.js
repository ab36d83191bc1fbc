// The snapshot is the slowest thing the page waits for: this module, loaded async from the page's head,
// asks for it while the rest of the page and its scripts load; live.js takes the answer (once).
import {getJSON, readConfig} from "../common.js";

let early = getJSON(readConfig("cc-config").snapshotUrl);

export function takeEarlySnapshot() {
  const answer = early;
  early = null;
  return answer;
}
