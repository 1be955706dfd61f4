/** Each provider's connect form, by kind: the Integrations settings render the one of each card. */
import type { ComponentType } from "react";
import { GitHubForm } from "./GitHubForm";
import { SearchConsoleForm } from "./SearchConsoleForm";
import type { IntegrationFormProps } from "./types";
import { XForm } from "./XForm";

export const FORMS: Record<string, ComponentType<IntegrationFormProps>> = {
  github: GitHubForm,
  search_console: SearchConsoleForm,
  x: XForm,
};
