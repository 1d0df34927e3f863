import { deployMesh } from "./program";

// config -> mesh -> the units this stack deploys (mesh:units); the outputs are what other units'
// stacks read through stack references.
export = deployMesh();
