// The account's language follows the app's: a signed-in person who picks
// another language (in the header menu or on the profile page) gets their
// mails and notifications in it too. At sign-in it is the other way round
// (see useAuth().login): the app takes the account's language.
import { watch } from "vue";
import { http } from "@/api/http";
import { i18n } from "@/i18n";
import { useAuth } from "@/stores/auth";

export function followAccountLanguage() {
  const auth = useAuth();
  const locale = i18n.global.locale as unknown as { value: string };
  watch(
    () => locale.value,
    async (lang) => {
      const u = auth.user;
      if (!u || !u.locale || u.locale === lang) return;
      u.locale = lang;
      try {
        await http.patch("/me", { locale: lang });
      } catch {
        /* the app's language still changed; the account's is asked again on the next change */
      }
    },
  );
}
