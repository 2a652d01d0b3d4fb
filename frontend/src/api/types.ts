import type { Fee } from "@/util/fee";
export type Status = "booked" | "in_progress" | "completed" | "cancelled" | "no_show" | "pending_payment";

export interface Person {
  id: string;
  name: string;
  specialty?: string;
}

export interface Appointment {
  id: string;
  doctor_id: string;
  patient_id: string;
  doctor: Person | null;
  patient: Person | null;
  starts_at: string;
  ends_at: string;
  status: Status;
  reason: string;
  cancel_reason: string;
  diagnosis: { summary: string; prescription: string | null; created_at: string; updated_at: string } | null;
  last_seq: number;
  /** unread_count: the caller's unread messages in this room (v1.1). */
  unread_count?: number;
  /** last_message: the room's newest message, or null (v1.1). */
  last_message?: LastMessage | null;
  /** payment: what the patient pays for it online; absent or null when it is not paid online. */
  payment?: Payment | null;
}

/** PaymentStatus is where an online payment stands. */
export type PaymentStatus = "requires_payment" | "succeeded" | "failed" | "expired" | "cancelled" | "refund_pending" | "refunded";

/** Payment is what a patient pays online for one appointment (amounts in minor units). */
export interface Payment {
  id: string;
  appointment_id: string;
  provider: string;
  provider_ref: string;
  status: PaymentStatus;
  amount: number;
  currency: string;
  /** client_secret: only for the patient while the payment is required. */
  client_secret?: string;
  expires_at: string;
  paid_at?: string | null;
  refunded_amount: number;
  refunded_at?: string | null;
  failure_reason?: string;
  receipt_number: string;
  created_at: string;
}

/** PaymentItem is a payment as lists carry it: with its appointment's time and parties. */
export interface PaymentItem extends Payment {
  starts_at?: string;
  doctor?: Person | null;
  patient?: Person | null;
}

/** PaymentsConfig says whether bookings are paid online, and with which key. */
export interface PaymentsConfig {
  provider: "stripe" | "none" | string;
  publishable_key: string;
  hold_seconds: number;
}

/** LastMessage is a room's newest message as lists and chat:unread carry it. */
export interface LastMessage {
  seq: number;
  kind?: MessageKind | string;
  sender_id: string;
  text: string;
  created_at: string;
}

/** Unread is chat:unread. */
export interface Unread {
  appointment_id: string;
  unread_count: number;
  last_message: LastMessage | null;
}

export type Media = "audio" | "video";
export type CallOutcome = "completed" | "missed" | "declined" | "cancelled";

/** CallRecord is what a call message says about a call that ended. */
export interface CallRecord {
  call_id?: string;
  media: Media;
  outcome: CallOutcome | string;
  duration_s: number;
}

/** SystemRecord is a step of the consultation recorded in its room. */
export interface SystemRecord {
  event: "started" | "completed" | "cancelled" | string;
}

/** CallInfo is the call ringing or running in a room (the join ack's call). */
export interface CallInfo {
  call_id: string;
  state: "ringing" | "active";
  media: Media;
  caller_id: string;
}

/** RoomLimits are what a room accepts (the join ack's limits). */
export interface RoomLimits {
  message_max_runes: number;
  attachment_max_bytes: number;
}

export interface Doctor {
  id: string;
  name: string;
  specialty: string;
  bio: string;
  time_zone: string;
  slot_minutes: number;
  /** The consultation fee (minor units; 0 is free); absent from older servers. */
  fee?: Fee | null;
}

export interface Slot {
  starts_at: string;
  ends_at: string;
}

export interface Attachment {
  id: string;
  file_name: string;
  content_type: string;
  size: number;
  url: string;
}

/**
 * MessageKind is what a message is (contract v1.1). Older servers send no
 * kind: such a message is an attachment when it has one, else text.
 */
export type MessageKind = "text" | "attachment" | "call" | "system";

export interface Message {
  id: string;
  kind?: MessageKind | string;
  appointment_id: string;
  seq: number;
  sender_id: string;
  text: string;
  attachment: Attachment | null;
  call?: CallRecord | null;
  system?: SystemRecord | null;
  client_msg_id: string;
  created_at: string;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read_at: string | null;
  created_at: string;
}

export interface ScheduleRule {
  weekday: number;
  start: string;
  end: string;
}

export interface Schedule {
  time_zone: string;
  slot_minutes: number;
  rules: ScheduleRule[];
}

export interface TimeOff {
  id: string;
  starts_at: string;
  ends_at: string;
  reason: string;
}

export interface Ack {
  ok: boolean;
  error?: { code: string; message: string; details?: Record<string, unknown> };
  [k: string]: unknown;
}
