// A popup (menu, panel) closes on Esc and on a click or tap outside it,
// and Esc gives the focus back to the button that opened it.
import { onMounted, onUnmounted, type Ref } from "vue";

export function useDismiss(root: Ref<HTMLElement | null>, open: Ref<boolean>, trigger?: Ref<HTMLElement | null>) {
  function onPointer(e: Event) {
    if (open.value && root.value && !root.value.contains(e.target as Node)) open.value = false;
  }
  function onKey(e: KeyboardEvent) {
    if (open.value && e.key === "Escape") {
      open.value = false;
      trigger?.value?.focus();
    }
  }
  onMounted(() => {
    document.addEventListener("pointerdown", onPointer, true);
    document.addEventListener("keydown", onKey);
  });
  onUnmounted(() => {
    document.removeEventListener("pointerdown", onPointer, true);
    document.removeEventListener("keydown", onKey);
  });
}
