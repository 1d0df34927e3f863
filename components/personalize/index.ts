export * from "./provider";
export * from "./recommender";
export * from "./resources";
export * from "./schemas";
export * from "./training";
export * from "./training-definition";
