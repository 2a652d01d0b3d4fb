import { createI18n } from "vue-i18n";

const en = {
  app: { name: "Teleconsult", skip: "Skip to content", language: "Language" },
  nav: { doctors: "Find a doctor", appointments: "My appointments", schedule: "My schedule", login: "Sign in", register: "Create account", logout: "Sign out" },
  conn: { connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline" },
  auth: {
    email: "Email", password: "Password", name: "Full name", login: "Sign in", register: "Create account",
    noAccount: "New here?", haveAccount: "Already have an account?", welcome: "See a doctor without the waiting room.",
  },
  doctors: { title: "Find a doctor", search: "Search by name or specialty", specialty: "Specialty", any: "Any specialty", none: "No doctor matches.", view: "See times" },
  doctor: {
    slots: "Free times (your time zone: {zone})", noSlots: "No free times in the next week.", reason: "Reason for the visit (optional)",
    book: "Book {time}", booked: "Booked! You will find it under My appointments.", pick: "Pick a time", prev: "Earlier", next: "Later",
  },
  appts: {
    title: "My appointments", upcoming: "Upcoming", past: "Past", none: "Nothing here yet.", with: "with {name}", patient: "Patient: {name}",
    cancel: "Cancel", reschedule: "Reschedule", open: "Open room", start: "Start consultation", complete: "Complete", confirmCancel: "Cancel this appointment?",
    today: "Today", newBooking: "New booking: {name} at {time}", pickNew: "Pick a new time",
  },
  status: { booked: "Booked", in_progress: "In progress", completed: "Completed", cancelled: "Cancelled", no_show: "No-show" },
  schedule: {
    title: "Weekly schedule", zone: "Time zone", slot: "Slot length (minutes)", add: "Add hours", remove: "Remove", save: "Save schedule", saved: "Schedule saved.",
    weekday: "Day", start: "From", end: "To", timeOff: "Time off", addTimeOff: "Add time off", from: "From", to: "To", reason: "Reason", none: "No time off planned.",
    days: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
  },
  room: {
    title: "Consultation", type: "Write a message…", send: "Send", attach: "Attach a file", older: "Load earlier messages", typing: "{name} is typing…",
    read: "Read", sent: "Sent", sending: "Sending…", retry: "Not sent — retry", online: "online", offline: "offline", diagnosis: "Diagnosis",
    summary: "Summary", prescription: "Prescription (optional)", saveDiagnosis: "Save diagnosis", noMessages: "No messages yet. Say hello!",
    closed: "This conversation is closed.", you: "You",
  },
  call: {
    audio: "Voice call", video: "Video call", incoming: "{name} is calling ({media})", accept: "Accept", reject: "Decline", hangup: "Hang up",
    mute: "Mute", unmute: "Unmute", cameraOff: "Camera off", cameraOn: "Camera on", ringing: "Ringing…", active: "In call", ended: "Call ended",
    busy: "A call is already in progress.",
  },
  bell: { title: "Notifications", empty: "You're all caught up.", markAll: "Mark all read", unread: "{n} unread" },
  errors: {
    generic: "Something went wrong. Please try again.", unauthorized: "Your email or password is wrong.", slot_taken: "Someone just took that time. Please pick another.",
    invalid_request: "Please check the highlighted fields.", rate_limited: "Too many attempts. Please wait a moment.", forbidden: "You are not allowed to do that.",
    not_found: "That no longer exists.", conflict: "That can't be done right now.", offline: "You're offline. We'll retry when you're back.", too_large: "That file is too large.",
  },
};

const zh: typeof en = {
  app: { name: "远程问诊", skip: "跳到正文", language: "语言" },
  nav: { doctors: "找医生", appointments: "我的预约", schedule: "我的排班", login: "登录", register: "注册", logout: "退出" },
  conn: { connected: "已连接", reconnecting: "正在重连…", offline: "离线" },
  auth: {
    email: "邮箱", password: "密码", name: "姓名", login: "登录", register: "注册账号",
    noAccount: "第一次来？", haveAccount: "已有账号？", welcome: "不用排队，在线看医生。",
  },
  doctors: { title: "找医生", search: "按姓名或科室搜索", specialty: "科室", any: "全部科室", none: "没有符合条件的医生。", view: "查看时间" },
  doctor: {
    slots: "可预约时间（您的时区：{zone}）", noSlots: "未来一周没有空闲时间。", reason: "就诊原因（可选）",
    book: "预约 {time}", booked: "预约成功！可在“我的预约”中查看。", pick: "选择时间", prev: "更早", next: "更晚",
  },
  appts: {
    title: "我的预约", upcoming: "即将开始", past: "已结束", none: "暂无内容。", with: "医生：{name}", patient: "患者：{name}",
    cancel: "取消", reschedule: "改期", open: "进入诊室", start: "开始问诊", complete: "结束问诊", confirmCancel: "确定取消这个预约吗？",
    today: "今天", newBooking: "新预约：{name}，{time}", pickNew: "选择新时间",
  },
  status: { booked: "已预约", in_progress: "问诊中", completed: "已完成", cancelled: "已取消", no_show: "未到诊" },
  schedule: {
    title: "每周排班", zone: "时区", slot: "每次时长（分钟）", add: "添加时段", remove: "删除", save: "保存排班", saved: "排班已保存。",
    weekday: "星期", start: "开始", end: "结束", timeOff: "休假", addTimeOff: "添加休假", from: "从", to: "到", reason: "原因", none: "暂无休假安排。",
    days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
  },
  room: {
    title: "诊室", type: "输入消息…", send: "发送", attach: "添加附件", older: "加载更早的消息", typing: "{name} 正在输入…",
    read: "已读", sent: "已发送", sending: "发送中…", retry: "发送失败，点击重试", online: "在线", offline: "离线", diagnosis: "诊断",
    summary: "诊断摘要", prescription: "处方（可选）", saveDiagnosis: "保存诊断", noMessages: "还没有消息，打个招呼吧！",
    closed: "本次对话已结束。", you: "我",
  },
  call: {
    audio: "语音通话", video: "视频通话", incoming: "{name} 来电（{media}）", accept: "接听", reject: "拒绝", hangup: "挂断",
    mute: "静音", unmute: "取消静音", cameraOff: "关闭摄像头", cameraOn: "打开摄像头", ringing: "正在呼叫…", active: "通话中", ended: "通话已结束",
    busy: "已有通话正在进行。",
  },
  bell: { title: "通知", empty: "没有新通知。", markAll: "全部已读", unread: "{n} 条未读" },
  errors: {
    generic: "出了点问题，请重试。", unauthorized: "邮箱或密码错误。", slot_taken: "该时间刚被预约，请选择其他时间。",
    invalid_request: "请检查标出的字段。", rate_limited: "尝试次数过多，请稍后再试。", forbidden: "您无权执行此操作。",
    not_found: "内容已不存在。", conflict: "当前无法执行此操作。", offline: "您已离线，恢复后会自动重试。", too_large: "文件太大。",
  },
};

const saved = typeof localStorage !== "undefined" ? localStorage.getItem("lang") : null;
const browser = typeof navigator !== "undefined" && navigator.language.startsWith("zh") ? "zh" : "en";

export const i18n = createI18n({ legacy: false, locale: saved ?? browser, fallbackLocale: "en", messages: { en, zh } });

/** errorText turns a contract error code into a human sentence. */
export function errorText(t: (k: string) => string, code: string | undefined, fallback?: string): string {
  const key = "errors." + (code ?? "generic");
  const s = t(key);
  return s === key ? (fallback ?? t("errors.generic")) : s;
}
