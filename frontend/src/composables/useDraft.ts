// Keeps what a person typed into a form in sessionStorage, so it survives
// an error, an expired session (sign in again and come back) or a reload
// of the tab. cleared() forgets it once the form went through.
import { watch, type Ref } from "vue";

export function useDraft<T extends object | string>(key: string, value: Ref<T>) {
  const k = "draft:" + key;
  try {
    const saved = sessionStorage.getItem(k);
    if (saved !== null) value.value = JSON.parse(saved) as T;
  } catch {
    /* nothing saved, or storage unavailable */
  }
  watch(
    value,
    (v) => {
      try {
        sessionStorage.setItem(k, JSON.stringify(v));
      } catch {
        /* storage full or unavailable: the form still works */
      }
    },
    { deep: true },
  );
  return {
    cleared() {
      try {
        sessionStorage.removeItem(k);
      } catch {
        /* ignore */
      }
    },
  };
}
