using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace MLNet.Optimizers.Internal;

/// <summary>
/// The self-checking frame around every saved snapshot: an 8-byte ASCII marker naming the kind of snapshot, the format
/// version (int32), the payload length (int64), the payload, then a CRC-64 (ECMA-182) over everything before it; all
/// little-endian. A snapshot must be the whole rest of its stream.
/// </summary>
/// <remarks>
/// CRC-64 rather than a 64-bit hash: a CRC detects every error burst up to its width with certainty, so any corrupted
/// byte, or any run of up to 8 corrupted bytes, is always caught; other damage passes with probability 2⁻⁶⁴.
/// </remarks>
internal static class SnapshotFrame
{
    private const int MarkerLength = 8;
    private const int HeaderLength = MarkerLength + sizeof(int) + sizeof(long);
    private const int ChecksumLength = sizeof(ulong);

    /// <summary>Writes the frame around the payload that <paramref name="writePayload"/> produces.</summary>
    internal static void Write(Stream stream, string marker, int version, Action<BinaryWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            writePayload(writer);
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        Encoding.ASCII.GetBytes(marker, header[..MarkerLength]);
        BinaryPrimitives.WriteInt32LittleEndian(header[MarkerLength..], version);
        BinaryPrimitives.WriteInt64LittleEndian(header[(MarkerLength + sizeof(int))..], payload.Length);
        ReadOnlySpan<byte> body = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        var crc = new Crc64();
        crc.Append(header);
        crc.Append(body);
        Span<byte> checksum = stackalloc byte[ChecksumLength];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, crc.GetCurrentHashAsUInt64());
        stream.Write(header);
        stream.Write(body);
        stream.Write(checksum);
    }

    /// <summary>
    /// Reads and verifies one frame, then parses its payload with <paramref name="parse"/>, which must consume it exactly.
    /// Every fault, from an empty stream to a checksum mismatch, trailing bytes or a malformed payload, is an
    /// <see cref="InvalidDataException"/> naming <paramref name="what"/> and what is wrong.
    /// </summary>
    internal static T Read<T>(Stream stream, string marker, int version, string what, Func<BinaryReader, T> parse)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[HeaderLength];
        int headerRead = stream.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (headerRead == 0)
        {
            throw new InvalidDataException($"The stream is empty; expected {what}.");
        }

        if (headerRead < HeaderLength)
        {
            throw new InvalidDataException($"The stream ends after {headerRead} bytes, inside the {HeaderLength}-byte header of {what}: it is truncated.");
        }

        if (!header[..MarkerLength].SequenceEqual(Encoding.ASCII.GetBytes(marker)))
        {
            throw new InvalidDataException($"The stream does not hold {what}: it does not start with the marker '{marker}'.");
        }

        int foundVersion = BinaryPrimitives.ReadInt32LittleEndian(header[MarkerLength..]);
        if (foundVersion != version)
        {
            throw new InvalidDataException($"{Capitalised(what)} has format version {foundVersion}; this library reads version {version}.");
        }

        long payloadLength = BinaryPrimitives.ReadInt64LittleEndian(header[(MarkerLength + sizeof(int))..]);
        if (payloadLength < 0 || payloadLength > Array.MaxLength - HeaderLength)
        {
            throw new InvalidDataException($"The header of {what} declares a payload of {payloadLength} bytes, which is impossible: the header is corrupted.");
        }

        byte[] payload = ReadPayload(stream, payloadLength, what);
        Span<byte> checksum = stackalloc byte[ChecksumLength];
        int checksumRead = stream.ReadAtLeast(checksum, ChecksumLength, throwOnEndOfStream: false);
        if (checksumRead < ChecksumLength)
        {
            throw new InvalidDataException($"The stream ends {checksumRead} bytes into the {ChecksumLength}-byte checksum of {what}: it is truncated.");
        }

        long trailing = stream.CanSeek ? stream.Length - stream.Position : stream.ReadByte() >= 0 ? 1 : 0;
        if (trailing > 0)
        {
            throw new InvalidDataException(
                $"{Capitalised(what)} is followed by {(stream.CanSeek ? $"{trailing}" : "more")} bytes; a snapshot must be the whole rest of its stream.");
        }

        var crc = new Crc64();
        crc.Append(header);
        crc.Append(payload);
        if (crc.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(checksum))
        {
            throw new InvalidDataException($"The checksum of {what} does not match its contents: the data is corrupted.");
        }

        using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
        T result;
        try
        {
            result = parse(reader);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"The payload of {what} ends early; it was not written by this library's Save.");
        }

        if (reader.BaseStream.Position != payload.Length)
        {
            throw new InvalidDataException($"The payload of {what} has {payload.Length - reader.BaseStream.Position} unread bytes; it was not written by this library's Save.");
        }

        return result;
    }

    /// <summary>A bound on the named entries (settings, vectors, scalars) a payload may declare, far above any rule's.</summary>
    internal const int MaxNamedEntries = 256;

    /// <summary>Writes <paramref name="values"/> bit-exact (no length; the reader knows it).</summary>
    internal static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        foreach (float value in values)
        {
            writer.Write(value);
        }
    }

    /// <summary>Reads <paramref name="length"/> floats, first checking that the payload holds them, so a bad length cannot allocate.</summary>
    internal static float[] ReadFloats(BinaryReader reader, int length)
    {
        if ((long)length * sizeof(float) > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new EndOfStreamException();
        }

        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    /// <summary>Reads a count written by the payload writer, rejecting a negative one or one beyond <paramref name="maximum"/>.</summary>
    internal static int ReadCount(BinaryReader reader, int maximum, string what)
    {
        int count = reader.ReadInt32();
        return count >= 0 && count <= maximum
            ? count
            : throw new InvalidDataException($"The snapshot declares {count} {what}; at most {maximum} are possible: it was not written by this library's Save.");
    }

    /// <summary>Reads <paramref name="length"/> bytes in chunks, so a corrupted length cannot allocate more than the stream holds.</summary>
    private static byte[] ReadPayload(Stream stream, long length, string what)
    {
        const int Chunk = 1 << 20;
        if (length <= Chunk)
        {
            byte[] small = new byte[length];
            int read = stream.ReadAtLeast(small, small.Length, throwOnEndOfStream: false);
            return read == small.Length ? small : throw Truncated(read, length, what);
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[Chunk];
        while (buffer.Length < length)
        {
            int want = (int)Math.Min(Chunk, length - buffer.Length);
            int read = stream.ReadAtLeast(chunk.AsSpan(0, want), want, throwOnEndOfStream: false);
            buffer.Write(chunk, 0, read);
            if (read < want)
            {
                throw Truncated(buffer.Length, length, what);
            }
        }

        return buffer.ToArray();
    }

    private static InvalidDataException Truncated(long read, long length, string what) =>
        new($"The stream ends {read} bytes into the {length}-byte payload of {what}: it is truncated.");

    private static string Capitalised(string text) => string.Concat(char.ToUpperInvariant(text[0]).ToString(), text.AsSpan(1));
}
