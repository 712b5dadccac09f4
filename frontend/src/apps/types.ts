import type { Schemas } from "../api/client";

/** What the chat routes (`/api/chat/<slug>/…`) answer, as the backend's OpenAPI document names it. */
export type AppInfo = Schemas["ChatAppInfo"];
export type Conversation = Schemas["ConversationRecord"];
export type AppMessage = Schemas["AppMessage"];
export type AppMessageStatus = AppMessage["status"];
export type Rating = "up" | "down";
