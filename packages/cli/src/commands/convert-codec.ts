/**
 * `vall-e convert-codec <checkpoint dir | model.safetensors> -o encodec.bin [--f16]`: a Hugging Face
 * facebook/encodec_24khz checkpoint → encodec.cpp's weight file (weight norm folded; f16 as the published file).
 */
import { Command } from "commander";
import type { CommandContext } from "../context.js";

export function convertCodecCommand(context: CommandContext): Command {
  return new Command("convert-codec")
    .description("convert a Hugging Face EnCodec 24 kHz checkpoint to encodec.cpp's weight file")
    .argument("<input>", "the checkpoint directory (config.json + model.safetensors) or its .safetensors file")
    .requiredOption("-o, --output <file>", "the encodec.bin to write")
    .option("--f16", "store conv and LSTM weights as f16 (as the encodec.bin published with the VALL-E models)")
    .action(async (input: string, options: { output: string; f16?: boolean }) => {
      const { convertHuggingFaceEncodec, writeEncodecBin } = await import("@vall-e/codec");
      const bin = await convertHuggingFaceEncodec(input, { half: options.f16 === true });
      const bytes = await writeEncodecBin(options.output, bin);
      context.output.info(
        `wrote ${options.output} (${bin.tensors.size} tensors, ${options.f16 ? "f16" : "f32"}, ${bytes} bytes)`,
      );
    });
}
