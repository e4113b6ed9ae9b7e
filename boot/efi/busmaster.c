/* Bus mastering stopped before moat takes over: between ExitBootServices and the moment
 * moat's IOMMU tables are in place nothing may DMA, so every PCI endpoint firmware left
 * mastering (a USB or disk controller it booted from, a NIC it used) is stopped here, while
 * firmware's PCI I/O protocol still describes the devices. Bridges keep forwarding: they do
 * not master on their own, and the devices below them are stopped one by one. moat's own
 * drivers turn bus mastering on again for the functions they drive, after their domains. */
#include "boot/efi/loader.h"

/* PCI configuration header (PCI Local Bus 3.0, 6.1) */
#define PCI_CFG_COMMAND 0x04
#define PCI_CMD_BUS_MASTER 0x0004
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_BRIDGE 0x01

static EFI_GUID pci_io_guid = EFI_PCI_IO_PROTOCOL_GUID;

static bool stop_one(EFI_PCI_IO_PROTOCOL *io, unsigned *stopped, unsigned *failed)
{
	UINTN seg, bus, dev, fn;
	UINT16 cmd = 0;
	UINT8 hdr = 0;

	if (EFI_ERROR(uefi_call_wrapper(io->Pci.Read, 5, io, EfiPciIoWidthUint8,
					PCI_CFG_HEADER_TYPE, 1, &hdr)) ||
	    EFI_ERROR(uefi_call_wrapper(io->Pci.Read, 5, io, EfiPciIoWidthUint16, PCI_CFG_COMMAND,
					1, &cmd)))
		return false;
	if ((hdr & PCI_HEADER_TYPE_MASK) == PCI_HEADER_BRIDGE || !(cmd & PCI_CMD_BUS_MASTER))
		return true;
	uefi_call_wrapper(io->GetLocation, 5, io, &seg, &bus, &dev, &fn);
	cmd &= (UINT16)~PCI_CMD_BUS_MASTER;
	uefi_call_wrapper(io->Pci.Write, 5, io, EfiPciIoWidthUint16, PCI_CFG_COMMAND, 1, &cmd);
	uefi_call_wrapper(io->Pci.Read, 5, io, EfiPciIoWidthUint16, PCI_CFG_COMMAND, 1, &cmd);
	if (cmd & PCI_CMD_BUS_MASTER) {
		Print(L"efi: bus mastering of %04x:%02x:%02x.%x would not stop\n", seg, bus, dev,
		      fn);
		(*failed)++;
	} else {
		Print(L"efi: bus mastering stopped on %04x:%02x:%02x.%x\n", seg, bus, dev, fn);
		(*stopped)++;
	}
	return true;
}

void firmware_stop_bus_masters(struct loader *ld)
{
	EFI_HANDLE *handles = NULL;
	UINTN count = 0;
	unsigned stopped = 0, failed = 0;
	EFI_STATUS status;

	status = uefi_call_wrapper(BS->LocateHandleBuffer, 5, ByProtocol, &pci_io_guid, NULL,
				   &count, &handles);
	if (EFI_ERROR(status)) {
		Print(L"efi: no PCI I/O handles (%r): bus mastering left as firmware set it\n",
		      status);
		return;
	}
	for (UINTN i = 0; i < count; i++) {
		EFI_PCI_IO_PROTOCOL *io = NULL;

		if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, handles[i], &pci_io_guid,
						(void **)&io)) ||
		    !io || !stop_one(io, &stopped, &failed))
			Print(L"efi: PCI function %ld: configuration space not readable\n", i);
	}
	FreePool(handles);
	Print(L"efi: %ld PCI functions, bus mastering stopped on %d%s\n", count, stopped,
	      failed ? L" (some refused)" : L"");
	(void)ld;
}
