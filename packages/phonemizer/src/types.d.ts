// kuroshiro and its kuromoji analyzer ship no type declarations; japanese.ts describes what it uses.
declare module "kuroshiro" {
  const Kuroshiro: unknown;
  export default Kuroshiro;
}
declare module "kuroshiro-analyzer-kuromoji" {
  const KuromojiAnalyzer: unknown;
  export default KuromojiAnalyzer;
}
