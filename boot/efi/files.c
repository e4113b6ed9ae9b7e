/* Files next to the application: moat.cmd (command line when the load options are empty)
 * and moat.conf (configuration, handed to moat as the module "config"). */
#include "boot/efi/loader.h"

#define PATH_CHARS 260
#define CMD_FILE_MAX 4096
#define CONF_FILE_MAX (1024 * 1024)

/* The directory of the application's file path, then name: "\EFI\BOOT\" + name. */
static bool path_next_to_app(const struct loader *ld, const CHAR16 *name, CHAR16 *out)
{
	EFI_DEVICE_PATH *node = ld->loaded->FilePath;
	UINTN len = 0, dir = 0;

	for (; node && !IsDevicePathEnd(node); node = NextDevicePathNode(node)) {
		const FILEPATH_DEVICE_PATH *fp = (const FILEPATH_DEVICE_PATH *)node;
		UINTN n = (DevicePathNodeLength(node) - 4) / sizeof(CHAR16);

		if (DevicePathNodeLength(node) < 4)
			return false;
		if (DevicePathType(node) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(node) != MEDIA_FILEPATH_DP)
			continue;
		if (len && out[len - 1] != L'\\' && len < PATH_CHARS)
			out[len++] = L'\\';
		for (UINTN i = 0; i < n && fp->PathName[i] && len < PATH_CHARS; i++)
			out[len++] = fp->PathName[i];
	}
	for (UINTN i = 0; i < len; i++)
		if (out[i] == L'\\')
			dir = i + 1;
	if (!dir)
		out[dir++] = L'\\';
	for (UINTN i = 0; name[i]; i++) {
		if (dir + 1 >= PATH_CHARS)
			return false;
		out[dir++] = name[i];
	}
	out[dir] = 0;
	return true;
}

static EFI_STATUS open_next_to_app(const struct loader *ld, const CHAR16 *name, EFI_FILE_HANDLE *fh,
				   CHAR16 *path)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS status;

	if (!path_next_to_app(ld, name, path)) {
		Print(L"efi: application path too long to look for %s\n", name);
		return EFI_BAD_BUFFER_SIZE;
	}
	root = LibOpenRoot(ld->loaded->DeviceHandle);
	if (!root) {
		Print(L"efi: no file system on the application's device: %s not read\n", name);
		return EFI_UNSUPPORTED;
	}
	status = uefi_call_wrapper(root->Open, 5, root, fh, path, EFI_FILE_MODE_READ, 0ULL);
	uefi_call_wrapper(root->Close, 1, root);
	return status;
}

static EFI_STATUS file_size(EFI_FILE_HANDLE fh, u64 *size)
{
	EFI_FILE_INFO *info = LibFileInfo(fh);

	if (!info)
		return EFI_DEVICE_ERROR;
	*size = info->FileSize;
	FreePool(info);
	return EFI_SUCCESS;
}

/* Read() may return less than asked; stop at the size or at a read that makes no progress. */
static EFI_STATUS file_read_all(EFI_FILE_HANDLE fh, void *buf, u64 size)
{
	u64 done = 0;

	while (done < size) {
		UINTN chunk = (UINTN)(size - done);
		EFI_STATUS status = uefi_call_wrapper(fh->Read, 3, fh, &chunk, (u8 *)buf + done);

		if (EFI_ERROR(status))
			return status;
		if (!chunk)
			return EFI_END_OF_FILE;
		done += chunk;
	}
	return EFI_SUCCESS;
}

/* Opens name next to the application and checks its size; EFI_NOT_FOUND quietly. */
static EFI_STATUS open_sized(const struct loader *ld, const CHAR16 *name, u64 max,
			     EFI_FILE_HANDLE *fh, u64 *size)
{
	CHAR16 path[PATH_CHARS];
	EFI_STATUS status;

	status = open_next_to_app(ld, name, fh, path);
	if (status == EFI_NOT_FOUND)
		return status;
	if (EFI_ERROR(status)) {
		Print(L"efi: cannot open %s: %r\n", path, status);
		return status;
	}
	status = file_size(*fh, size);
	if (EFI_ERROR(status)) {
		Print(L"efi: cannot read the size of %s: %r\n", path, status);
	} else if (*size > max) {
		Print(L"efi: %s is %ld bytes, more than %ld: ignored\n", path, *size, max);
		status = EFI_BAD_BUFFER_SIZE;
	}
	if (EFI_ERROR(status))
		uefi_call_wrapper((*fh)->Close, 1, *fh);
	return status;
}

static void report_cmdline(int ret, const CHAR16 *from, const char *cmdline)
{
	if (ret == -E2BIG)
		Print(L"efi: command line from %s cut to %d characters\n", from,
		      BOOT_CMDLINE_MAX - 1);
	else if (ret == -EILSEQ)
		Print(L"efi: %s is not printable ASCII text: ignored\n", from);
	if (ret != -EILSEQ)
		Print(L"efi: command line from %s: \"%a\"\n", from, cmdline);
}

static void cmdline_from_file(struct loader *ld)
{
	static char text[CMD_FILE_MAX];
	EFI_FILE_HANDLE fh;
	EFI_STATUS status;
	u64 size;
	int ret;

	status = open_sized(ld, L"moat.cmd", sizeof(text), &fh, &size);
	if (status == EFI_NOT_FOUND)
		Print(L"efi: no command line in the load options (%d bytes) and no moat.cmd: "
		      L"empty command line\n",
		      ld->loaded->LoadOptionsSize);
	if (EFI_ERROR(status))
		return;
	status = file_read_all(fh, text, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(status)) {
		Print(L"efi: reading moat.cmd failed: %r\n", status);
		return;
	}
	ret = efi_cmdline_from_text(text, (size_t)size, ld->bi->cmdline, BOOT_CMDLINE_MAX);
	report_cmdline(ret, L"moat.cmd", ld->bi->cmdline);
}

void files_load_cmdline(struct loader *ld)
{
	int ret = 0;

	if (ld->loaded->LoadOptionsSize) {
		ret = efi_cmdline_from_ucs2(ld->loaded->LoadOptions, ld->loaded->LoadOptionsSize,
					    ld->bi->cmdline, BOOT_CMDLINE_MAX);
		if (ret != 0)
			report_cmdline(ret, L"load options", ld->bi->cmdline);
		if (ret == -EILSEQ)
			ld->bi->cmdline[0] = '\0';
		if (ret > 0 || ret == -E2BIG)
			return;
	}
	cmdline_from_file(ld);
}

void files_load_config(struct loader *ld)
{
	struct boot_module *m = &ld->bi->modules[ld->bi->nr_modules];
	EFI_FILE_HANDLE fh;
	EFI_STATUS status;
	u64 size, pa;

	status = open_sized(ld, L"moat.conf", CONF_FILE_MAX, &fh, &size);
	if (status == EFI_NOT_FOUND)
		Print(L"efi: no moat.conf next to the application: built-in configuration\n");
	if (EFI_ERROR(status))
		return;
	status = loader_alloc_pages(size + 1, &pa);
	if (EFI_ERROR(status))
		Print(L"efi: no memory for moat.conf (%ld bytes): %r\n", size, status);
	else
		status = file_read_all(fh, (void *)(UINTN)pa, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(status)) {
		Print(L"efi: moat.conf not loaded: %r\n", status);
		return;
	}
	m->start = pa;
	m->end = pa + size;
	__builtin_memcpy(m->name, "config", sizeof("config"));
	ld->bi->nr_modules++;
	loader_keep(ld, pa, size + 1);
	Print(L"efi: moat.conf (%ld bytes) at %lx as module \"config\"\n", size, pa);
}
