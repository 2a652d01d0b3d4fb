import { http } from "@/api/http";
import { Realtime } from "@/realtime/socket";
import { CallManager } from "@/realtime/call";

/** The app's one socket, authenticated with the in-memory access token. */
export const realtime = new Realtime({ token: () => http.getToken(), refresh: () => http.renew() });

/** The app's calls: they ring on any screen and outlive the room view. */
export const calls = new CallManager(realtime);
