import { http } from "@/api/http";
import { Realtime } from "@/realtime/socket";

/** The app's one socket, authenticated with the in-memory access token. */
export const realtime = new Realtime({ token: () => http.getToken(), refresh: () => http.renew() });
