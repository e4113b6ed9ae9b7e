/* Files next to the application: moat.cmd (command line when the load options are empty),
 * moat.conf (configuration, handed to moat as the module "config"), guest images
 * (<name>.elf, handed over as the module "<name>", which a configuration names with
 * image=<name>) and the ACPI tables named by acpi.override=<file>[,<file>...] (each handed
 * over as the module of its file name). */
#include "boot/efi/loader.h"

#define PATH_CHARS 260
#define CMD_FILE_MAX 4096
#define CONF_FILE_MAX (1024 * 1024)
#define IMAGE_FILE_MAX (64ULL * 1024 * 1024)
#define DIR_INFO_MAX 1024
#define ACPI_TABLE_FILE_MAX (4 * 1024 * 1024)
#define LINUX_FILE_MAX (256ULL * 1024 * 1024)
#define OVERRIDE_ARG_MAX 160

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

/* Loads `file` next to the application into pages moat keeps, as boot module `modname`. */
static void load_module(struct loader *ld, const CHAR16 *file, const char *modname, u64 max,
			bool say_missing)
{
	UINTN namelen = 0;

	struct boot_module *m = &ld->bi->modules[ld->bi->nr_modules];
	EFI_FILE_HANDLE fh;
	EFI_STATUS status;
	u64 size, pa;

	if (ld->bi->nr_modules >= BOOT_MAX_MODULES) {
		Print(L"efi: more than %d modules: %s not loaded\n", BOOT_MAX_MODULES, file);
		return;
	}
	status = open_sized(ld, file, max, &fh, &size);
	if (status == EFI_NOT_FOUND && say_missing)
		Print(L"efi: no %s next to the application\n", file);
	if (EFI_ERROR(status))
		return;
	status = loader_alloc_pages(size + 1, &pa);
	if (EFI_ERROR(status))
		Print(L"efi: no memory for %s (%ld bytes): %r\n", file, size, status);
	else
		status = file_read_all(fh, (void *)(UINTN)pa, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(status)) {
		Print(L"efi: %s not loaded: %r\n", file, status);
		return;
	}
	m->start = pa;
	m->end = pa + size;
	while (modname[namelen] && namelen + 1 < sizeof(m->name))
		namelen++;
	__builtin_memcpy(m->name, modname, namelen);
	m->name[namelen] = 0;
	ld->bi->nr_modules++;
	loader_keep(ld, pa, size + 1);
	Print(L"efi: %s (%ld bytes) at %lx as module \"%a\"\n", file, size, pa, modname);
}

void files_load_config(struct loader *ld)
{
	load_module(ld, L"moat.conf", "config", CONF_FILE_MAX, true);
}

/* "name.elf" (any case) -> "name" when name is 1..63 printable ASCII characters. */
static bool guest_image_name(const CHAR16 *file, char *out, size_t size)
{
	UINTN n = 0;

	while (file[n])
		n++;
	if (n < 5 || n - 4 >= size || file[n - 4] != L'.' || (file[n - 3] | 0x20) != L'e' ||
	    (file[n - 2] | 0x20) != L'l' || (file[n - 1] | 0x20) != L'f')
		return false;
	for (UINTN i = 0; i < n - 4; i++) {
		if (file[i] < 0x21 || file[i] > 0x7e)
			return false;
		out[i] = (char)file[i];
	}
	out[n - 4] = 0;
	return true;
}

/* The application's directory itself ("\\EFI\\BOOT"; "\\" at the root). */
static EFI_STATUS open_app_dir(const struct loader *ld, EFI_FILE_HANDLE *fh, CHAR16 *path)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS status;
	UINTN last = 0;

	if (!path_next_to_app(ld, L"x", path))
		return EFI_BAD_BUFFER_SIZE;
	for (UINTN i = 0; path[i]; i++)
		if (path[i] == L'\\')
			last = i;
	path[last ? last : 1] = 0;
	root = LibOpenRoot(ld->loaded->DeviceHandle);
	if (!root)
		return EFI_UNSUPPORTED;
	status = uefi_call_wrapper(root->Open, 5, root, fh, path, EFI_FILE_MODE_READ, 0ULL);
	uefi_call_wrapper(root->Close, 1, root);
	return status;
}

void files_load_guest_images(struct loader *ld)
{
	CHAR16 path[PATH_CHARS];
	EFI_FILE_HANDLE dir;
	EFI_STATUS status;
	UINTN len;
	u64 info_buf[DIR_INFO_MAX / 8];
	EFI_FILE_INFO *info = (EFI_FILE_INFO *)info_buf;

	status = open_app_dir(ld, &dir, path);
	if (EFI_ERROR(status)) {
		Print(L"efi: cannot list the application's directory: %r\n", status);
		return;
	}
	for (;;) {
		char name[sizeof(((struct boot_module *)0)->name)];

		len = sizeof(info_buf);
		status = uefi_call_wrapper(dir->Read, 3, dir, &len, info);
		if (EFI_ERROR(status) || len == 0)
			break;
		if (info->Attribute & EFI_FILE_DIRECTORY)
			continue;
		if (!guest_image_name(info->FileName, name, sizeof(name)))
			continue;
		load_module(ld, info->FileName, name, IMAGE_FILE_MAX, false);
	}
	if (EFI_ERROR(status))
		Print(L"efi: listing the application's directory failed: %r\n", status);
	uefi_call_wrapper(dir->Close, 1, dir);
}

/* One file name of acpi.override as UCS-2; false unless it is 1..63 printable ASCII
 * characters without a path separator. */
static bool override_file_name(const char *name, CHAR16 *out, size_t cap)
{
	size_t n = 0;

	for (; name[n]; n++) {
		if (n + 1 >= cap || name[n] < 0x21 || name[n] > 0x7e || name[n] == '\\' ||
		    name[n] == '/')
			return false;
		out[n] = (CHAR16)name[n];
	}
	out[n] = 0;
	return n > 0;
}

void files_load_acpi_overrides(struct loader *ld)
{
	char arg[OVERRIDE_ARG_MAX], *name = arg;
	int len = efi_cmdline_value(ld->bi->cmdline, "acpi.override", arg, sizeof(arg));

	if (len == -E2BIG)
		Print(L"efi: acpi.override value longer than %d characters: no table loaded\n",
		      OVERRIDE_ARG_MAX - 1);
	if (len <= 0)
		return;
	for (;;) {
		char *comma = name;
		CHAR16 file[sizeof(((struct boot_module *)0)->name)];

		while (*comma && *comma != ',')
			comma++;
		if (*comma)
			*comma++ = 0;
		else
			comma = NULL;
		if (override_file_name(name, file, ARRAY_SIZE(file)))
			load_module(ld, file, name, ACPI_TABLE_FILE_MAX, true);
		else
			Print(L"efi: acpi.override: \"%a\" is not a file name next to the "
			      L"application\n",
			      name);
		if (!comma)
			break;
		name = comma;
	}
}

/* The module already loaded under that name, or NULL (a file named twice is read once). */
static const struct boot_module *loaded_module(const struct loader *ld, const char *name)
{
	for (u32 i = 0; i < ld->bi->nr_modules; i++) {
		const char *a = ld->bi->modules[i].name, *b = name;

		while (*a && *a == *b) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return &ld->bi->modules[i];
	}
	return NULL;
}

/* The files a configuration names with kernel= and initrd= (Linux guests), each as the
 * module of its file name: from moat.conf, and from config= on the command line. */
void files_load_linux_files(struct loader *ld)
{
	static char cmdline_cfg[BOOT_CMDLINE_MAX];
	const struct boot_module *conf = loaded_module(ld, "config");
	const char *texts[2] = {NULL, NULL};
	size_t lens[2] = {0, 0};

	if (conf) {
		texts[0] = (const char *)(UINTN)conf->start;
		lens[0] = (size_t)(conf->end - conf->start);
	}
	if (efi_cmdline_value(ld->bi->cmdline, "config", cmdline_cfg, sizeof(cmdline_cfg)) > 0) {
		texts[1] = cmdline_cfg;
		lens[1] = sizeof(cmdline_cfg);
	}
	for (unsigned t = 0; t < 2; t++)
		for (unsigned n = 0; texts[t]; n++) {
			char name[sizeof(((struct boot_module *)0)->name)];
			CHAR16 file[sizeof(name)];
			int len = efi_config_file(texts[t], lens[t], n, name, sizeof(name));

			if (len == -ENOENT)
				break;
			if (len <= 0 || !override_file_name(name, file, ARRAY_SIZE(file))) {
				Print(L"efi: a kernel= or initrd= value is not a file name next to "
				      L"the "
				      L"application\n");
				continue;
			}
			if (!loaded_module(ld, name))
				load_module(ld, file, name, LINUX_FILE_MAX, true);
		}
}
