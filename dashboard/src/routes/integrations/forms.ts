/** Each provider's connect form, by kind: the Integrations settings render the one of each card. */
import type { ComponentType } from "react";
import type { IntegrationFormProps } from "./types";

export const FORMS: Record<string, ComponentType<IntegrationFormProps>> = {
};
