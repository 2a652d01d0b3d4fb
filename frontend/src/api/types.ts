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
}

export interface Doctor {
  id: string;
  name: string;
  specialty: string;
  bio: string;
  time_zone: string;
  slot_minutes: number;
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
