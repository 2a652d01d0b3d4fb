import { createApp } from "vue";
import { createPinia } from "pinia";
import App from "./App.vue";
import { router } from "./router";
import { i18n } from "./i18n";
import { followAccountLanguage } from "./stores/account";
import "./style.css";
import "./admin.css";

const app = createApp(App).use(createPinia()).use(router).use(i18n);
followAccountLanguage();
app.mount("#app");
